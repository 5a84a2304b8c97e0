package launchd

import (
	"bufio"
	"strconv"
	"strings"
)

// printInfo is what launchctl print says about a loaded service.
type printInfo struct {
	State    string // "running", "waiting", "not running", "spawn scheduled", ...
	PID      int    // 0 when not running
	LastExit *int   // nil when it never exited
	Runs     *int
}

// parsePrint reads `launchctl print DOMAIN/LABEL`: a "name = {" block of
// "key = value" lines, with nested blocks (arguments, environment, domain
// details) that may repeat keys such as state. Only the service's own
// lines, one level deep, count.
func parsePrint(out string) printInfo {
	var info printInfo
	depth := 0
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasSuffix(line, "{"):
			depth++
			continue
		case line == "}":
			depth--
			continue
		case depth != 1:
			continue
		}
		key, val, ok := strings.Cut(line, " = ")
		if !ok {
			continue
		}
		switch strings.TrimSpace(key) {
		case "state":
			info.State = strings.TrimSpace(val)
		case "pid":
			info.PID, _ = strconv.Atoi(strings.TrimSpace(val))
		case "last exit code":
			if n, err := strconv.Atoi(strings.Fields(val + " x")[0]); err == nil {
				info.LastExit = &n
			}
		case "runs":
			if n, err := strconv.Atoi(strings.TrimSpace(val)); err == nil {
				info.Runs = &n
			}
		}
	}
	return info
}
