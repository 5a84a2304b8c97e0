// Package boot decides what a container's boot does with each profile's
// gateway (hermes gateway reconcile): which profiles there are, what their
// recorded intent says, and the audit line each gets in
// logs/container-boot.log, in the format upstream's reconciler writes.
package boot

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/nousresearch/hermes-service/shared/gateway"
	"github.com/nousresearch/hermes-service/shared/service"
)

// LogFile is the audit log, under the home's logs folder.
const LogFile = "container-boot.log"

// logRotate is when the audit log moves to LogFile.1.
const logRotate = 256 << 10

// soulFile marks a folder under profiles/ as a real profile.
const soulFile = "SOUL.md"

// Entry is one profile's boot decision.
type Entry struct {
	Profile string
	Dir     string
	// Prior is the recorded intent ("" when nothing was recorded).
	Prior string
}

// Start says whether the boot starts the gateway: it was running.
func (e Entry) Start() bool { return e.Prior == service.DesiredRunning }

// PriorState is the recorded intent: desired_state, else gateway_state,
// with a transient state of a running gateway read as running.
func PriorState(dir string) string {
	st, _ := gateway.ReadState(dir)
	if d := st.DesiredState(); d != "" {
		return d
	}
	switch g := st.GatewayState(); g {
	case gateway.GatewayDraining, gateway.GatewayDegraded:
		return service.DesiredRunning
	default:
		return g
	}
}

// Entries lists default and every real profile (a profiles/<name> folder
// holding SOUL.md) with its recorded intent, in name order. Folders that
// cannot be profiles are skipped with a warning to warn.
func Entries(home gateway.Home, warn io.Writer) ([]Entry, error) {
	out := []Entry{{Profile: service.DefaultProfile, Dir: home.Root}}
	entries, err := os.ReadDir(filepath.Join(home.Root, "profiles"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	for _, e := range entries { // ReadDir sorts by name
		dir := filepath.Join(home.Root, "profiles", e.Name())
		if !e.IsDir() {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, soulFile)); err != nil {
			continue
		}
		if e.Name() == service.DefaultProfile {
			fmt.Fprintf(warn, "reconcile: warning: skipping %s: \"default\" is the profile at the root of the home\n", dir)
			continue
		}
		if err := service.ValidateProfile(e.Name()); err != nil {
			// The folder's name is anything its owner chose: quoted (its
			// newlines, control characters escaped), as the error quotes it.
			fmt.Fprintf(warn, "reconcile: warning: skipping %q: %v\n", dir, err)
			continue
		}
		out = append(out, Entry{Profile: e.Name(), Dir: dir})
	}
	for i := range out {
		out[i].Prior = PriorState(out[i].Dir)
	}
	return out, nil
}

// ClearStalePIDRecord removes a plain runner's pid record no runner holds
// the lock for: it is left from before the restart (another pid namespace)
// and would confuse the new runner's checks. Upstream's own gateway.pid is
// upstream's to judge (its start-up check removes a stale one).
func ClearStalePIDRecord(dir string) {
	if rec, _ := gateway.Runner.ReadPIDRecord(dir); rec != nil && !gateway.Runner.Locked(dir) {
		_ = os.Remove(filepath.Join(dir, gateway.Runner.PIDFile))
	}
}

// AuditLine is an entry's line in the audit log, stamped with at, in
// upstream's format: "<time> profile=<p> prior_state=<state|None>
// action=<registered|started>". The recorded state comes from
// gateway_state.json, which the home's owner can write, so each value goes
// through auditValue: one that could forge a line or a field comes out
// escaped, and every value upstream writes comes out as it is.
func AuditLine(e Entry, at time.Time) string {
	prior, action := e.Prior, "registered"
	if prior == "" {
		prior = "None" // what the Python side writes for no state
	}
	if e.Start() {
		action = "started"
	}
	return fmt.Sprintf("%s profile=%s prior_state=%s action=%s", at.Format("2006-01-02T15:04:05-0700"),
		auditValue(e.Profile), auditValue(prior), action)
}

// auditPlain are the bytes a value of an audit line may hold as it is:
// those of upstream's states and of profile names.
const auditPlain = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-"

// auditValue is v as an audit line carries it: as it is when it is
// non-empty and every byte is in auditPlain; else a Go string literal
// (strconv.QuoteToASCII: quotes, backslashes, control and non-ASCII
// characters escaped) with its spaces written \x20, so that it is one
// field on one line, which strconv.Unquote reads back.
func auditValue(v string) string {
	if v != "" && strings.Trim(v, auditPlain) == "" {
		return v
	}
	return strings.ReplaceAll(strconv.QuoteToASCII(v), " ", `\x20`)
}

// WriteLog appends lines to <home>/logs/container-boot.log, rotated to .1
// at 256 KiB; a failed rotation is reported to warn and the append goes on.
func WriteLog(home gateway.Home, lines []string, warn io.Writer) error {
	dir := filepath.Join(home.Root, "logs")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	path := filepath.Join(dir, LogFile)
	if info, err := os.Stat(path); err == nil && info.Size() >= logRotate {
		if err := os.Rename(path, path+".1"); err != nil {
			fmt.Fprintf(warn, "reconcile: warning: could not rotate %s: %v\n", path, err)
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	defer f.Close()
	for _, line := range lines {
		if _, err := fmt.Fprintln(f, line); err != nil {
			return fmt.Errorf("audit log: %w", err)
		}
	}
	return nil
}
