package host

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/nousresearch/hermes-service/internal/detect"
	"github.com/nousresearch/hermes-service/internal/wait"
	"github.com/nousresearch/hermes-service/shared/gateway"
)

// foregroundStopWait bounds how long `gateway stop` waits for a foreground
// runner to exit.
const foregroundStopWait = 30 * time.Second

func stopCommand() *cli.Command {
	cmd := lifecycleVerb("stop", "stop the profile's gateway (an operator stop: it stays down after a reboot) and wait until it is down")
	cmd.Description = "With a service manager, the backend stops the service. Without one (no backend detected and none\n" +
		"chosen), stop finds the foreground `hermes gateway run` through the profile's pid record, marks the\n" +
		"stop as planned, sends it SIGTERM and waits for it to exit."
	backendStop := cmd.Action
	cmd.Action = func(c *cli.Context) error {
		s, err := newSession(c)
		if err != nil {
			return err
		}
		if s.backend == "" && !c.Bool("all") {
			var none *NoBackendError
			if d, err := s.detect(defaultScope()); errors.As(err, &none) {
				if err := noArgs(c); err != nil {
					return err
				}
				return stopForeground(s, d)
			}
		}
		return backendStop(c)
	}
	return cmd
}

// stopForeground stops a runner started by hand, through its pid record,
// never signalling a pid the record no longer describes.
func stopForeground(s *session, d detect.Detection) error {
	dir, err := gateway.Home{Root: s.home}.ProfileDir(s.profile)
	if err != nil {
		return &UsageError{Err: err}
	}
	rec, err := gateway.ReadPIDRecord(dir)
	if err != nil {
		return fmt.Errorf("read %s: %w", filepath.Join(dir, gateway.PIDFile), err)
	}
	if rec == nil {
		fmt.Fprintf(s.stdout, "the %s gateway is not running (no pid record in %s; %s)\n", s.profile, dir, d.Reason)
		return nil
	}
	why := rec.Stale()
	if why != "" && !gateway.Alive(rec.PID) {
		_ = gateway.RemovePIDRecord(dir, rec.PID)
		fmt.Fprintf(s.stdout, "the %s gateway is not running (%s; removed its stale pid record)\n", s.profile, why)
		return nil
	}
	if rec.HermesHome != "" && !samePath(rec.HermesHome, dir) {
		return &refusedStopError{pid: rec.PID, reason: fmt.Sprintf("its pid record in %s belongs to the home %s", dir, rec.HermesHome)}
	}
	if why != "" {
		_ = gateway.RemovePIDRecord(dir, rec.PID)
		return &refusedStopError{pid: rec.PID, reason: why + "; removed the stale pid record"}
	}
	if !gateway.MarkPlannedStop(s.log, dir, rec.PID) {
		fmt.Fprintf(s.stderr, "hermes: warning: could not write the planned-stop marker; the gateway will record this stop as one from outside\n")
	}
	if err := gateway.RequestStop(rec.PID); err != nil {
		return fmt.Errorf("signal the %s gateway (PID %d): %w", s.profile, rec.PID, err)
	}
	gone := func() bool { return !gateway.SameProcess(rec.PID, rec.StartTime) }
	if err := wait.For(s.ctx, fmt.Sprintf("the %s gateway (PID %d) to exit", s.profile, rec.PID), foregroundStopWait, gone); err != nil {
		return err
	}
	fmt.Fprintf(s.stdout, "stopped the %s gateway (PID %d)\n", s.profile, rec.PID)
	return nil
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

type refusedStopError struct {
	pid    int
	reason string
}

func (e *refusedStopError) Error() string {
	return fmt.Sprintf("refusing to signal PID %d: %s", e.pid, e.reason)
}

func (e *refusedStopError) Hint() string {
	return "check which process that is (ps -p PID) and stop it yourself if it is a gateway"
}

// markStopCommand is the hidden `gateway mark-stop`: a service manager's
// stop hook (systemd's ExecStop=) runs it so that a stop typed as
// `systemctl stop` counts as the operator's too.
func markStopCommand() *cli.Command {
	return &cli.Command{
		Name:   "mark-stop",
		Usage:  "mark the coming stop of the profile's gateway as planned (for service definitions)",
		Hidden: true,
		Flags: []cli.Flag{
			profileFlag(""),
			&cli.IntFlag{Name: "pid", Usage: "the gateway runner's pid (default: from the pid record)"},
		},
		Action: func(c *cli.Context) error {
			if err := noArgs(c); err != nil {
				return err
			}
			s, err := newSession(c)
			if err != nil {
				return err
			}
			dir, err := gateway.Home{Root: s.home}.ProfileDir(s.profile)
			if err != nil {
				return &UsageError{Err: err}
			}
			pid := c.Int("pid")
			if pid == 0 {
				rec, _ := gateway.ReadPIDRecord(dir)
				if rec == nil {
					return errors.New("no pid given and no pid record to read it from")
				}
				pid = rec.PID
			}
			if err := gateway.WriteMarker(dir, pid); err != nil {
				// Best effort by contract: say so, never fail the stop it precedes.
				fmt.Fprintf(s.stderr, "hermes: warning: could not mark the stop of PID %d as planned: %v\n", pid, err)
			}
			return nil
		},
	}
}
