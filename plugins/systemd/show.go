package systemd

import (
	"bufio"
	"strconv"
	"strings"
	"time"
)

// showProps is what status asks systemctl show for.
var showProps = []string{"Id", "LoadState", "ActiveState", "SubState", "MainPID", "ExecMainStatus", "NRestarts", "UnitFileState", "ActiveEnterTimestamp"}

// parseShow reads `systemctl show -p ...` output: key=value lines, one
// block per unit, blocks separated by an empty line.
func parseShow(out string) []map[string]string {
	var blocks []map[string]string
	cur := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			if len(cur) > 0 {
				blocks = append(blocks, cur)
				cur = map[string]string{}
			}
			continue
		}
		if k, v, ok := strings.Cut(line, "="); ok {
			cur[k] = v
		}
	}
	if len(cur) > 0 {
		blocks = append(blocks, cur)
	}
	return blocks
}

// parseTimestamp reads systemd's timestamp format, "Wed 2026-11-25
// 10:00:00 UTC"; an empty or "n/a" value is unknown.
func parseTimestamp(v string) (time.Time, bool) {
	v = strings.TrimSpace(v)
	if v == "" || v == "n/a" || v == "0" {
		return time.Time{}, false
	}
	for _, layout := range []string{"Mon 2006-01-02 15:04:05 MST", "Mon 2006-01-02 15:04:05.000000 MST", "2006-01-02 15:04:05 MST"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

func atoi(v string) (int, bool) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	return n, err == nil
}
