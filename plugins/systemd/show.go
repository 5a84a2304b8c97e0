package systemd

import (
	"bufio"
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nousresearch/hermes-service/shared/gateway"
	"github.com/nousresearch/hermes-service/shared/service"
)

// showProps is what status asks systemctl show for.
var showProps = []string{"Id", "LoadState", "ActiveState", "SubState", "Result", "MainPID", "ExecMainCode", "ExecMainStatus",
	"NRestarts", "UnitFileState", "StateChangeTimestamp"}

// show asks systemctl show for the units' properties, by unit name.
// Timestamps come to the microsecond: two failures within one second must
// not look like one.
func (b *Backend) show(ctx context.Context, s scope, names []string) (map[string]map[string]string, error) {
	args := append([]string{"show", "--timestamp=us+utc", "-p", strings.Join(showProps, ",")}, names...)
	res, err := b.systemctl(ctx, s, "", args...)
	if err != nil {
		return nil, err
	}
	blocks := map[string]map[string]string{}
	for _, blk := range parseShow(res) {
		blocks[blk["Id"]] = blk
	}
	return blocks, nil
}

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

// How the main process ended (ExecMainCode: siginfo's si_code).
const (
	cldExited = "1"
	cldKilled = "2"
	cldDumped = "3"
)

// fill maps systemctl show's properties onto the shared status. A unit
// waiting to be restarted after a failure (auto-restart) is failed, with
// the restart in the detail: it is not running, and the next start may
// fail alike. A process a signal ended has no exit code: the signal is
// named instead.
func fill(st *service.Status, p map[string]string) {
	if p["LoadState"] == "not-found" {
		st.Installed = false
		st.Detail = "not loaded by systemd (run systemctl daemon-reload)"
		return
	}
	active, sub := p["ActiveState"], p["SubState"]
	switch {
	case active == "active" || active == "reloading":
		st.State = service.StateRunning
	case active == "activating" && sub == "auto-restart":
		st.State = service.StateFailed
	case active == "activating":
		st.State = service.StateStarting
	case active == "failed":
		st.State = service.StateFailed
	case active == "inactive" || active == "deactivating":
		st.State = service.StateStopped
	default:
		st.State = service.StateUnknown
	}
	st.Detail = strings.TrimSpace(active + " (" + sub + ")")
	if pid, ok := atoi(p["MainPID"]); ok && pid > 0 {
		st.PID = new(pid)
	}
	ended := ""
	if st.State != service.StateRunning {
		code, ok := atoi(p["ExecMainStatus"])
		switch p["ExecMainCode"] {
		case cldExited:
			if ok {
				st.LastExit = new(code)
				ended = fmt.Sprintf("ended with exit %d", code)
				if code == gateway.ExitConfig {
					ended += " (fatal configuration: restarting cannot help)"
				}
			}
		case cldKilled, cldDumped:
			if ok {
				ended = "was killed by " + signalName(code)
				if p["ExecMainCode"] == cldDumped {
					ended += " (core dumped)"
				}
			}
		}
	}
	if ended != "" && (st.State == service.StateFailed || p["Result"] != "success") {
		st.Detail += ": the last run " + ended
	}
	if sub == "auto-restart" {
		st.Detail += "; systemd restarts it shortly"
	}
	if n, ok := atoi(p["NRestarts"]); ok {
		st.Restarts = new(n)
	}
	switch p["UnitFileState"] {
	case "enabled", "enabled-runtime", "linked", "alias":
		st.Enabled = new(true)
	case "disabled", "static", "indirect", "masked":
		st.Enabled = new(false)
	}
	if t, ok := parseTimestamp(p["StateChangeTimestamp"]); ok {
		st.Since = &t
	}
}

// parseTimestamp reads systemd's timestamp format, "Wed 2026-11-25
// 10:00:00 UTC" (with microseconds under --timestamp=us); an empty or
// "n/a" value is unknown.
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
