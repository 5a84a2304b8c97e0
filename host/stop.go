package host

import (
	"errors"
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/nousresearch/hermes-service/internal/detect"
	"github.com/nousresearch/hermes-service/internal/runner"
	"github.com/nousresearch/hermes-service/internal/shutdown"
	"github.com/nousresearch/hermes-service/internal/wait"
	"github.com/nousresearch/hermes-service/shared/gateway"
)

func stopCommand() *cli.Command {
	cmd := lifecycleCommand(verbStop, "stop the profile's gateway and wait until it is down: an operator's stop, which lasts "+
		"(it stays down after a reboot: under systemd the unit is disabled, so neither a reboot nor a login starts it; "+
		"on Windows the service is made manual; start undoes either)")
	cmd.Description = "With a service manager, the backend stops the service. It stays down across a reboot: under systemd\n" +
		"the unit is disabled too (start enables it again); on Windows the service is made manual (start makes it\n" +
		"automatic again, when installed to start at boot); in an s6 container the slot keeps a down file. A machine's\n" +
		"shutdown is never an operator's stop, so the gateway comes back with the machine. Without one (no backend detected and none\n" +
		"chosen), stop finds the foreground `hermes gateway run` through the profile's pid record, marks the\n" +
		"stop as planned, sends it SIGTERM and waits for it to exit. It signals only a process proven to be\n" +
		"that profile's runner or gateway: its lock held, and a pid record naming it with its start time.\n" +
		"Otherwise it says nothing is running and exits 3."
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

// stopForeground stops a runner started by hand, through its pid record.
func stopForeground(s *session, d detect.Detection) error {
	dir, err := gateway.Home{Root: s.home}.ProfileDir(s.profile)
	if err != nil {
		return &UsageError{Err: err}
	}
	out, err := runner.Stop(s.ctx, dir, s.log)
	if out.Unmarked {
		fmt.Fprintf(s.stderr, "hermes: warning: could not write the planned-stop marker; the gateway will record this stop as one from outside\n")
	}
	if err != nil {
		return fmt.Errorf("stop the %s gateway: %w", s.profile, err)
	}
	if out.PID == 0 {
		why := out.NotRunning
		if out.NoRecord {
			why += "; " + d.Reason
		} else {
			why += "; nothing was signalled (hermes gateway doctor reports stale records and how to remove them)"
		}
		fmt.Fprintf(s.stdout, "the %s gateway is not running (%s)\n", s.profile, why)
		return exitStatus(ExitNotRunning)
	}
	fmt.Fprintf(s.stdout, "stopped the %s gateway (PID %d)\n", s.profile, out.PID)
	return nil
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
			&cli.StringFlag{Name: flagName(gateway.FlagUnlessShutdown), Usage: "mark nothing while the systemd manager of this scope " +
				"(system or user) is going down: a shutdown, reboot or logout is no operator's stop"},
		},
		Action: func(c *cli.Context) error {
			s, err := flagsOnlySession(c)
			if err != nil {
				return err
			}
			dir, err := gateway.Home{Root: s.home}.ProfileDir(s.profile)
			if err != nil {
				return &UsageError{Err: err}
			}
			if scope := c.String(flagName(gateway.FlagUnlessShutdown)); scope != "" {
				sc, err := shutdown.ParseScope(scope)
				if err != nil {
					return &UsageError{Err: err}
				}
				stopping, err := shutdown.SystemdStopping(c.Context, sc)
				switch {
				case err != nil:
					// Unknown: a typed stop is the common case, so mark it.
					fmt.Fprintf(s.stderr, "hermes: warning: %v; marking the stop as the operator's\n", err)
				case stopping:
					fmt.Fprintf(s.stderr, "hermes: the %s manager is going down: not an operator's stop, nothing marked\n", sc)
					return nil
				}
			}
			pid := c.Int("pid")
			if pid == 0 {
				rec, _ := gateway.Runner.ReadPIDRecord(dir)
				if rec == nil {
					rec, _ = gateway.ReadPIDRecord(dir)
				}
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

// readyPoll is how often wait-ready reads the gateway's state file.
const readyPoll = 50 * time.Millisecond

// waitReadyCommand is the hidden `gateway wait-ready`: a service manager's
// readiness hook (systemd's ExecStartPost=) runs it, so the service counts
// as started only once the gateway says it runs: its state file says
// gateway_state "running" under the pid the manager started. It fails as
// soon as that process is gone, and after gateway.StartBudget.
func waitReadyCommand() *cli.Command {
	return &cli.Command{
		Name:   gateway.CommandWaitReady,
		Usage:  "wait until the profile's gateway runs (for service definitions)",
		Hidden: true,
		Flags: []cli.Flag{
			profileFlag(""),
			&cli.IntFlag{Name: flagName(gateway.FlagPID), Usage: "the gateway's pid, as the service manager started it", Required: true},
		},
		Action: func(c *cli.Context) error {
			s, err := flagsOnlySession(c)
			if err != nil {
				return err
			}
			dir, err := gateway.Home{Root: s.home}.ProfileDir(s.profile)
			if err != nil {
				return &UsageError{Err: err}
			}
			pid := c.Int(flagName(gateway.FlagPID))
			err = wait.Poll{What: fmt.Sprintf("the %s gateway (PID %d) to run", s.profile, pid), Timeout: gateway.StartBudget, Interval: readyPoll}.
				Until(s.ctx, func() (bool, error) {
					if st, err := gateway.ReadState(dir); err == nil && st.GatewayState() == gateway.GatewayRunning && st.PID() == pid {
						return true, nil
					}
					if !gateway.Alive(pid) {
						return true, fmt.Errorf("the %s gateway (PID %d) exited before it was up", s.profile, pid)
					}
					return false, nil
				})
			if err != nil {
				return err
			}
			fmt.Fprintf(s.stderr, "hermes: the %s gateway runs (PID %d)\n", s.profile, pid)
			return nil
		},
	}
}
