package runner

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/nousresearch/hermes-service/internal/wait"
	"github.com/nousresearch/hermes-service/shared/gateway"
)

// leftoverWait bounds the wait for a killed leftover group to be gone:
// SIGKILL takes effect at once, but a process stuck in the kernel (a dead
// network mount) dies only when it leaves it.
const leftoverWait = 5 * time.Second

// recordGroup records the gateway's process group (gateway.ChildGroup) for
// the next runner, should this one be killed before it stops the gateway;
// the returned func removes the record once the gateway is waited for. No
// record where there are no process groups, or where the gateway's start
// time is unknown: it could never tell the group from a later one.
func (r *runner) recordGroup(pid int) (remove func()) {
	g := gateway.NewChildGroup(pid)
	if !processGroups || g.StartTime == nil {
		return func() {}
	}
	if err := gateway.WriteChildGroup(r.Dir, g); err != nil {
		r.Log.Warn("could not record the gateway's process group: should this runner be killed, what the gateway "+
			"started may outlive it", "file", filepath.Join(r.Dir, gateway.RunnerGroupFile), "error", err)
		return func() {}
	}
	return func() { _ = gateway.RemoveChildGroup(r.Dir, pid) }
}

// endLeftover kills what a runner killed before it could stop its gateway
// left of the gateway's process group (the gateway itself dies with its
// runner, Linux's parent-death signal; what it started does not), so the
// gateway this runner starts is the profile's only one. It runs under the
// profile's lock, so the runner that wrote the record is gone; SIGKILL, as
// that runner's stop budget is spent. A record that proves no live group of
// its own (gateway.ChildGroup.Leftover) is removed, nothing signalled.
func (r *runner) endLeftover() error {
	path := filepath.Join(r.Dir, gateway.RunnerGroupFile)
	g, err := gateway.ReadChildGroup(r.Dir)
	if err != nil {
		r.Log.Warn("could not read the last gateway's process group record; anything it left running is left alone",
			"file", path, "error", err)
		return nil
	}
	if g == nil {
		return nil
	}
	pids, why := g.Leftover()
	if len(pids) > 0 && g.PGID == ownGroup() {
		pids, why = nil, "it is this runner's own group"
	}
	if len(pids) == 0 {
		r.Log.Debug("nothing to end of the last gateway's process group", "pgid", g.PGID, "reason", why)
		_ = gateway.RemoveChildGroup(r.Dir, g.PGID)
		return nil
	}
	r.say("the last runner (PID %d) ended without stopping its gateway, and processes of the gateway's group %d still run "+
		"(PIDs %v); killing them (SIGKILL) before the gateway starts", g.RunnerPID, g.PGID, pids)
	kerr := killGroup(g.PGID)
	gone := func() bool { return !gateway.GroupAlive(g.PGID) }
	if err := wait.For(context.Background(), fmt.Sprintf("process group %d to be gone", g.PGID), leftoverWait, gone); err != nil {
		if kerr != nil {
			err = fmt.Errorf("%w (kill: %w)", err, kerr)
		}
		return &LeftoverError{PGID: g.PGID, PIDs: pids, Err: err}
	}
	r.say("process group %d is gone", g.PGID)
	_ = gateway.RemoveChildGroup(r.Dir, g.PGID)
	return nil
}

// LeftoverError is a group a killed runner left that this runner could not
// end: it starts no gateway beside it.
type LeftoverError struct {
	PGID int
	PIDs []int
	Err  error
}

func (e *LeftoverError) Error() string {
	return fmt.Sprintf("processes of the last gateway's group %d (PIDs %v) are still running, so no second gateway starts: %v",
		e.PGID, e.PIDs, e.Err)
}

func (e *LeftoverError) Unwrap() error { return e.Err }

// Hint says how to end them by hand.
func (e *LeftoverError) Hint() string {
	return fmt.Sprintf("end them as their owner or root (kill -KILL -- -%d); the service's next start runs the gateway", e.PGID)
}
