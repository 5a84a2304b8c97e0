// Package boot decides what a container's boot does with each profile's
// gateway (hermes gateway reconcile): which profiles there are, what their
// recorded intent says, and the audit line each gets in
// logs/container-boot.log, in the format upstream's reconciler writes.
package boot

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/nousresearch/hermes-service/internal/homefs"
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
	prior, _ := priorState(dir)
	return prior
}

// priorState is PriorState, and why the state could not be read (a
// symlink, a file over gateway.MaxFileSize): no intent then.
func priorState(dir string) (string, error) {
	st, err := gateway.ReadState(dir)
	if d := st.DesiredState(); d != "" {
		return d, err
	}
	switch g := st.GatewayState(); g {
	case gateway.GatewayDraining, gateway.GatewayDegraded:
		return service.DesiredRunning, err
	default:
		return g, err
	}
}

// Readers bounds how many profiles' files a boot reads at once.
const Readers = 4

// Entries lists default and every real profile (a profiles/<name> folder
// holding SOUL.md) with its recorded intent, in name order. Folders that
// cannot be profiles are skipped with a warning to warn; so are symlinks
// (hermes follows none in a home): a profiles/ that is one leaves default
// alone. A state that cannot be read is warned about, and read as no
// intent.
func Entries(home gateway.Home, warn io.Writer) ([]Entry, error) {
	out := []Entry{{Profile: service.DefaultProfile, Dir: home.Root}}
	entries, err := profileEntries(home, warn)
	if err != nil {
		return nil, err
	}
	for _, e := range entries { // sorted by name
		dir := filepath.Join(home.Root, "profiles", e.name)
		if e.link {
			fmt.Fprintf(warn, "reconcile: warning: skipping %s: it is a symbolic link, and hermes follows none in a Hermes home "+
				"(replace it with the profile's folder)\n", dir)
			continue
		}
		if !e.soul {
			continue
		}
		if e.name == service.DefaultProfile {
			fmt.Fprintf(warn, "reconcile: warning: skipping %s: \"default\" is the profile at the root of the home\n", dir)
			continue
		}
		if err := service.ValidateProfile(e.name); err != nil {
			// The folder's name is anything its owner chose: quoted (its
			// newlines, control characters escaped), as the error quotes it.
			fmt.Fprintf(warn, "reconcile: warning: skipping %q: %v\n", dir, err)
			continue
		}
		out = append(out, Entry{Profile: e.name, Dir: dir})
	}
	failed := make([]error, len(out))
	var g errgroup.Group
	g.SetLimit(Readers)
	for i := range out {
		g.Go(func() error {
			out[i].Prior, failed[i] = priorState(out[i].Dir)
			return nil
		})
	}
	_ = g.Wait()
	for i, err := range failed {
		if err != nil {
			fmt.Fprintf(warn, "reconcile: warning: the %s profile's recorded intent cannot be read, so it counts as none: %v\n", out[i].Profile, err)
			if h := service.HintOf(err); h != "" {
				fmt.Fprintf(warn, "reconcile: hint: %s\n", h)
			}
		}
	}
	return out, nil
}

// profileEntry is a name under profiles/: a folder (with or without
// SOUL.md) or a symlink.
type profileEntry struct {
	name       string
	link, soul bool
}

// profileEntries lists the folders and symlinks under profiles/, without
// following any.
func profileEntries(home gateway.Home, warn io.Writer) ([]profileEntry, error) {
	h, err := homefs.Open(home.Root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer h.Close()
	entries, err := h.ReadDir("profiles")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	var unsafe *homefs.SymlinkError
	if errors.As(err, &unsafe) {
		fmt.Fprintf(warn, "reconcile: warning: skipping every named profile: %v\nreconcile: hint: %s\n", err, unsafe.Hint())
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []profileEntry
	for _, e := range entries {
		switch {
		case e.Type()&fs.ModeSymlink != 0:
			out = append(out, profileEntry{name: e.Name(), link: true})
		case e.IsDir():
			out = append(out, profileEntry{name: e.Name(), soul: h.Exists(homefs.Join("profiles", e.Name(), soulFile))})
		}
	}
	return out, nil
}

// ClearStalePIDRecord removes a plain runner's pid record no runner holds
// the lock for: it is left from before the restart (another pid namespace)
// and would confuse the new runner's checks. Upstream's own gateway.pid is
// upstream's to judge (its start-up check removes a stale one).
func ClearStalePIDRecord(dir string) {
	if rec, _ := gateway.Runner.ReadPIDRecord(dir); rec != nil && !gateway.Runner.Locked(dir) {
		_ = gateway.Runner.RemovePIDRecord(dir, rec.PID)
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
// The folder and the log are the home owner's, whoever runs hermes; a
// symlink where either should be is refused (internal/homefs), so root's
// reconcile never appends to a file outside the home.
func WriteLog(home gateway.Home, lines []string, warn io.Writer) error {
	h, err := homefs.OpenCreate(home.Root)
	if err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	defer h.Close()
	if err := h.MkdirAll("logs", 0o755); err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	rel := homefs.Join("logs", LogFile)
	f, err := h.Append(rel, 0o644)
	if err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	if info, err := f.Stat(); err == nil && info.Size() >= logRotate {
		f.Close()
		if err := h.Rename(rel, rel+".1"); err != nil {
			fmt.Fprintf(warn, "reconcile: warning: could not rotate %s: %v\n", h.Path(rel), err)
		}
		if f, err = h.Append(rel, 0o644); err != nil {
			return fmt.Errorf("audit log: %w", err)
		}
	}
	defer f.Close()
	var b strings.Builder
	for _, line := range lines {
		b.WriteString(line)
		b.WriteByte('\n')
	}
	if _, err := f.WriteString(b.String()); err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	return nil
}
