package runner

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/nousresearch/hermes-service/internal/wait"
	"github.com/nousresearch/hermes-service/shared/gateway"
)

// ForegroundStopWait bounds how long Stop waits for a runner to exit.
const ForegroundStopWait = 30 * time.Second

// StopOutcome is what Stop found and did.
type StopOutcome struct {
	// PID is the runner that was stopped, 0 when none was proven running.
	PID int
	// NotRunning says why nothing was stopped ("no .hermes-runner.pid or
	// gateway.pid in ...", or why a record there proves nothing).
	NotRunning string
	// NoRecord is true when the profile has no pid record at all.
	NoRecord bool
	// Unmarked is true when the planned-stop marker could not be written:
	// the runner then records the stop as one from outside.
	Unmarked bool
}

// Stop stops a runner started by hand (no service manager) for the profile
// at dir: the stop is marked as planned for the runner's pid (the runner,
// or upstream's gateway, then records the operator's intent "stopped"), the
// runner asked to stop, and waited for.
//
// It signals only a process proven to be the profile's runner or gateway
// (gateway.Claim.Prove: a pid record with the start time of the live pid,
// and the claim's lock held by it). Anything less, a bare pid, a record
// without a start time, a reused pid, a lock nobody holds, is "not
// running": Stop then signals nothing, and writes and removes nothing
// either (a stale record is hermes doctor's to report).
func Stop(ctx context.Context, dir string, log hclog.Logger) (StopOutcome, error) {
	// A plain runner's claim first; else a gateway keeping upstream's
	// protocol itself (run by hand with --protocol hermes, or upstream's
	// own), which classifies the marked stop itself.
	var (
		why      []string
		noRecord = true
	)
	for _, c := range []gateway.Claim{claim, gateway.Upstream} {
		rec, err := c.Prove(dir)
		var u *gateway.Unproven
		switch {
		case errors.As(err, &u):
			if !u.NoRecord {
				noRecord = false
				why = append(why, u.Reason)
			}
			continue
		case err != nil:
			return StopOutcome{}, fmt.Errorf("read the pid record in %s: %w", dir, err)
		}
		return stopProven(ctx, dir, rec, log)
	}
	if noRecord {
		return StopOutcome{NoRecord: true,
			NotRunning: fmt.Sprintf("no %s or %s in %s", claim.PIDFile, gateway.Upstream.PIDFile, dir)}, nil
	}
	return StopOutcome{NotRunning: strings.Join(why, "; ")}, nil
}

// stopProven marks, signals and waits for the proven runner rec.
func stopProven(ctx context.Context, dir string, rec *gateway.PIDRecord, log hclog.Logger) (StopOutcome, error) {
	out := StopOutcome{PID: rec.PID, Unmarked: !gateway.MarkPlannedStop(log, dir, rec.PID)}
	if err := gateway.RequestStop(rec.PID); err != nil {
		if !out.Unmarked {
			gateway.ConsumeMarker(dir, rec.PID) // no stop follows: the marker must not wait for one
		}
		return out, fmt.Errorf("signal PID %d: %w", rec.PID, err)
	}
	gone := func() bool { return !gateway.SameProcess(rec.PID, rec.StartTime) }
	if err := wait.For(ctx, fmt.Sprintf("the runner (PID %d) to exit", rec.PID), ForegroundStopWait, gone); err != nil {
		return out, err
	}
	return out, nil
}
