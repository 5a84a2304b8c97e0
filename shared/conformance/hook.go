package conformance

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
)

// Hook is the backend's real supervisor, as the lifecycle tier uses it: the
// author provides it, because only the author knows how their init system
// is started privately (a runsvdir or s6-svscan of its own, a contained
// systemd).
type Hook struct {
	// Setup starts a private supervisor whose files live in dir, a fresh
	// empty folder, and returns the environment that points the plugin at
	// it (for example HERMES_RUNIT_SVDIR=dir/service). It runs once per
	// tier.
	Setup func(ctx context.Context, dir string) (env []string, err error)
	// Restart restarts the supervisor as a machine's reboot or a
	// container's restart would: every gateway gets its stop signal with no
	// marker (a stop from outside), the supervisor goes away, and it comes
	// back starting what its own records want up. For a backend with
	// runtime registration, whose supervisor forgets its services (s6's
	// /run/service), the tier then calls Reconcile as a container's boot
	// does.
	Restart func(ctx context.Context) error
	// Teardown stops the supervisor and everything it runs. It runs once,
	// whatever happened before.
	Teardown func(ctx context.Context) error
}

// The hook command's verbs: `HOOK setup DIR`, `HOOK restart DIR`, `HOOK
// teardown DIR`.
const (
	HookSetup    = "setup"
	HookRestart  = "restart"
	HookTeardown = "teardown"
)

// CommandHook is a Hook run as a program (what `hermes gateway plugins check
// --lifecycle PATH` takes): `PATH setup DIR` prints the plugin's
// environment on stdout, one NAME=VALUE per line, and leaves the supervisor
// running; `PATH restart DIR` and `PATH teardown DIR` do the rest, DIR the
// same folder each time, where the hook keeps what it needs (a pid file).
// A non-zero exit fails the step, with what the hook printed on stderr.
// A hook that starts a supervisor must detach its output from the hook's
// own (redirect it into DIR), or the kit waits for the supervisor's end.
func CommandHook(path string) Hook {
	var dir string
	run := func(ctx context.Context, verb string) ([]byte, error) {
		cmd := exec.CommandContext(ctx, path, verb, dir)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return out, fmt.Errorf("the hook %s %s %s: %w: %s", path, verb, dir, err, strings.TrimSpace(stderr.String()))
		}
		return out, nil
	}
	return Hook{
		Setup: func(ctx context.Context, d string) ([]string, error) {
			dir = d
			out, err := run(ctx, HookSetup)
			if err != nil {
				return nil, err
			}
			var env []string
			s := bufio.NewScanner(bytes.NewReader(out))
			for s.Scan() {
				line := strings.TrimSpace(s.Text())
				if line == "" || strings.HasPrefix(line, "#") {
					continue
				}
				if name, _, ok := strings.Cut(line, "="); !ok || name == "" {
					return nil, fmt.Errorf("the hook %s %s printed %q: want NAME=VALUE lines", path, HookSetup, line)
				}
				env = append(env, line)
			}
			return env, nil
		},
		Restart: func(ctx context.Context) error {
			_, err := run(ctx, HookRestart)
			return err
		},
		Teardown: func(ctx context.Context) error {
			// Teardown runs after a failure too, on a context of its own.
			_, err := run(context.WithoutCancel(ctx), HookTeardown)
			return err
		},
	}
}

// check refuses a hook missing a part, before anything starts.
func (h Hook) check() error {
	if h.Setup == nil || h.Restart == nil || h.Teardown == nil {
		return fmt.Errorf("the lifecycle hook needs Setup, Restart and Teardown")
	}
	return nil
}
