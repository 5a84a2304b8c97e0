package runner

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/nousresearch/hermes-service/internal/wait"
	"github.com/nousresearch/hermes-service/shared/gateway"
)

// ForegroundStopWait bounds how long Stop waits for a runner to exit.
const ForegroundStopWait = 30 * time.Second

// StopOutcome is what Stop found and did.
type StopOutcome struct {
	// PID is the runner that was stopped, 0 when none was running.
	PID int
	// NotRunning says why nothing was stopped ("no pid record in ...").
	NotRunning string
	// NoRecord is true when the profile has no pid record at all.
	NoRecord bool
	// Unmarked is true when the planned-stop marker could not be written:
	// the runner then records the stop as one from outside.
	Unmarked bool
}

// Stop stops a runner started by hand (no service manager) for the profile
// at dir, through its pid record: the stop is marked as planned, the runner
// asked to stop, and waited for. It never signals a pid the record no
// longer describes: a record of another home, or of a process that is no
// longer the runner that wrote it, is refused with a *RefusedStopError.
func Stop(ctx context.Context, dir string, log hclog.Logger) (StopOutcome, error) {
	// A plain runner's claim first; else a gateway keeping upstream's
	// protocol itself (run by hand with --protocol hermes, or upstream's
	// own), which classifies the marked stop itself.
	c := claim
	rec, err := c.ReadPIDRecord(dir)
	if err == nil && rec == nil {
		c = gateway.Upstream
		rec, err = c.ReadPIDRecord(dir)
	}
	if err != nil {
		return StopOutcome{}, fmt.Errorf("read %s: %w", filepath.Join(dir, c.PIDFile), err)
	}
	if rec == nil {
		return StopOutcome{NotRunning: "no pid record in " + dir, NoRecord: true}, nil // neither claim
	}
	why := rec.Stale()
	if why != "" && !gateway.Alive(rec.PID) {
		_ = c.RemovePIDRecord(dir, rec.PID)
		return StopOutcome{NotRunning: why + "; removed its stale pid record"}, nil
	}
	if rec.HermesHome != "" && !samePath(rec.HermesHome, dir) {
		return StopOutcome{}, &RefusedStopError{PID: rec.PID,
			Reason: fmt.Sprintf("its pid record in %s belongs to the home %s", dir, rec.HermesHome)}
	}
	if why != "" {
		_ = c.RemovePIDRecord(dir, rec.PID)
		return StopOutcome{}, &RefusedStopError{PID: rec.PID, Reason: why + "; removed the stale pid record"}
	}
	out := StopOutcome{PID: rec.PID, Unmarked: !gateway.MarkPlannedStop(log, dir, rec.PID)}
	if err := gateway.RequestStop(rec.PID); err != nil {
		return out, fmt.Errorf("signal PID %d: %w", rec.PID, err)
	}
	gone := func() bool { return !gateway.SameProcess(rec.PID, rec.StartTime) }
	if err := wait.For(ctx, fmt.Sprintf("the runner (PID %d) to exit", rec.PID), ForegroundStopWait, gone); err != nil {
		return out, err
	}
	return out, nil
}

func samePath(a, b string) bool {
	ca, err1 := filepath.Abs(a)
	cb, err2 := filepath.Abs(b)
	if err1 != nil || err2 != nil {
		return false
	}
	if ra, err := filepath.EvalSymlinks(ca); err == nil {
		ca = ra
	}
	if rb, err := filepath.EvalSymlinks(cb); err == nil {
		cb = rb
	}
	return filepath.Clean(ca) == filepath.Clean(cb)
}

// RefusedStopError is a pid record Stop would not act on.
type RefusedStopError struct {
	PID    int
	Reason string
}

func (e *RefusedStopError) Error() string {
	return fmt.Sprintf("refusing to signal PID %d: %s", e.PID, e.Reason)
}

// Hint says how to look at the process.
func (e *RefusedStopError) Hint() string {
	return "check which process that is (ps -p PID) and stop it yourself if it is a gateway"
}
