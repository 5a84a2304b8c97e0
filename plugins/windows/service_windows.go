//go:build windows

package windows

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	win "golang.org/x/sys/windows"
	"golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/eventlog"
	"golang.org/x/sys/windows/svc/mgr"

	"github.com/nousresearch/hermes-service/internal/wait"
	"github.com/nousresearch/hermes-service/shared/gateway"
	"github.com/nousresearch/hermes-service/shared/plugin"
	"github.com/nousresearch/hermes-service/shared/service"
)

// ServiceMode is the plugin binary's service mode, for plugin.Serve.
var ServiceMode = plugin.Mode{Name: ServiceModeName, Run: RunService}

// RunService is service mode: it speaks the SCM's protocol for the
// profile's service and runs the gateway runner as its child. args are the
// ServiceArgs after "service".
func RunService(args []string) int {
	spec, err := ParseServiceArgs(args)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	h := &handler{spec: spec}
	if l, err := eventlog.Open(ServiceName(spec.Profile)); err == nil {
		h.events = l
		defer l.Close()
	}
	if err := svc.Run(ServiceName(spec.Profile), h); err != nil {
		h.event(true, "service mode: "+err.Error())
		return 1
	}
	return 0
}

type handler struct {
	spec   Spec
	events *eventlog.Log
	// env is the operator's environment from EnvFile.
	env map[string]string
}

func (h *handler) event(failure bool, msg string) {
	if h.events == nil {
		return
	}
	if failure {
		_ = h.events.Error(1, msg)
	} else {
		_ = h.events.Info(1, msg)
	}
}

func (h *handler) profileDir() string {
	dir, _ := gateway.Home{Root: h.spec.Home}.ProfileDir(h.spec.Profile)
	return dir
}

// start runs `hermes [-p P] gateway run`, its output appended to the
// profile's log file.
func (h *handler) start() (*exec.Cmd, <-chan int, error) {
	logDir := filepath.Join(h.profileDir(), "logs")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return nil, nil, err
	}
	out, err := os.OpenFile(filepath.Join(logDir, "gateway.log"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, nil, err
	}
	cmd := exec.Command(h.spec.Command[0], h.spec.Command[1:]...)
	cmd.Dir = h.profileDir()
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Env = append(os.Environ(), gateway.EnvPair(gateway.EnvHome, h.spec.Home), gateway.EnvPair(gateway.EnvSupervisedChild, "1"))
	for k, v := range h.spec.Env {
		cmd.Env = append(cmd.Env, gateway.EnvPair(k, v))
	}
	for k, v := range h.env {
		cmd.Env = append(cmd.Env, gateway.EnvPair(k, v))
	}
	if err := cmd.Start(); err != nil {
		out.Close()
		return nil, nil, err
	}
	done := make(chan int, 1)
	go func() {
		_ = cmd.Wait()
		out.Close()
		done <- cmd.ProcessState.ExitCode()
	}()
	return cmd, done, nil
}

// Execute is the service's life, as the SCM sees it.
func (h *handler) Execute(_ []string, reqs <-chan svc.ChangeRequest, status chan<- svc.Status) (bool, uint32) {
	status <- svc.Status{State: svc.StartPending}
	env, err := readEnvFile(h.profileDir())
	if err != nil {
		// A fatal configuration: the SCM's recovery would only repeat it.
		h.event(true, "the gateway's environment cannot be used: "+err.Error()+"; "+service.HintOf(err))
		return true, gateway.ExitConfig
	}
	h.env = env
	// Started by anyone (hermes, sc start, services.msc): the gateway is
	// wanted, and at boot again if the operator installed it so (the start
	// type is changed once the service runs: while it starts, the SCM may
	// hold its database).
	h.recordDesired(service.DesiredRunning)
	child, done, err := h.start()
	if err != nil {
		h.event(true, "the gateway runner could not start: "+err.Error())
		return true, gateway.ExitConfig
	}
	status <- svc.Status{State: svc.Running, Accepts: svc.AcceptStop | svc.AcceptShutdown}
	h.persistStartType(false)
	for {
		select {
		case code := <-done:
			if RunExit(code) {
				h.event(code != 0, fmt.Sprintf("the gateway runner exited with %d; not restarting", code))
				return code != 0, uint32(code)
			}
			// Ending without reporting Stopped is a crash to the SCM: its
			// recovery actions restart the service.
			h.event(true, fmt.Sprintf("the gateway runner exited with %d; the recovery actions restart it", code))
			os.Exit(code)
		case c := <-reqs:
			switch c.Cmd {
			case svc.Interrogate:
				status <- c.CurrentStatus
			case svc.Stop:
				// The operator's stop (hermes, sc stop, services.msc): it
				// holds across a reboot, and it is marked, so the runner
				// hands it to the gateway as planned and "stopped" is
				// recorded.
				h.persistStartType(true)
				h.recordDesired(service.DesiredStopped)
				gateway.MarkPlannedStop(nil, h.profileDir(), child.Process.Pid)
				status <- h.stopPending()
				h.stop(child, done)
				return false, 0
			case svc.Shutdown:
				// The machine is going down: no marker and the start type
				// untouched, the intent stays "running" and the gateway
				// comes back with the machine.
				status <- h.stopPending()
				h.stop(child, done)
				return false, 0
			}
		}
	}
}

// stopPending is the status while the runner stops: its wait hint, the
// service's stop budget, tells the SCM how long the stop may take.
func (h *handler) stopPending() svc.Status {
	return svc.Status{State: svc.StopPending, WaitHint: uint32(h.spec.StopTimeout.Milliseconds())}
}

// stop sets the runner's stop event and waits for it, then ends it once
// the service's stop budget (Spec.StopTimeout, from its --stop-timeout) has
// run out since the request: the budget is the wrapper's, as TimeoutStopSec
// is systemd's.
func (h *handler) stop(child *exec.Cmd, done <-chan int) {
	deadline := time.Now().Add(h.spec.StopTimeout)
	// The runner creates its stop event early in its start, but an SCM Stop
	// can come sooner (a stop right after a start): keep trying to open the
	// event until the runner has made it or has exited, rather than give
	// up and wait out the budget for a runner that never heard the request.
	exited := false
	_ = wait.Poll{What: "the runner's stop event", Timeout: h.spec.StopTimeout, Interval: 50 * time.Millisecond}.
		Until(context.Background(), func() (bool, error) {
			select {
			case <-done:
				exited = true
				return true, nil
			default:
			}
			return setStopEvent(child.Process.Pid), nil
		})
	if exited {
		return
	}
	select {
	case <-done:
	case <-time.After(time.Until(deadline)):
		h.event(true, "the gateway runner did not stop in time; ending it")
		// A hermes-protocol gateway runs under the runner: it goes too,
		// or it would outlive its service.
		if rec, err := gateway.Upstream.Prove(h.profileDir()); err == nil {
			_ = gateway.Kill(rec.PID)
		}
		_ = child.Process.Kill()
		if rec, _ := gateway.Runner.ReadPIDRecord(h.profileDir()); rec != nil && rec.PID == child.Process.Pid {
			_ = gateway.UpdateState(h.profileDir(), map[string]any{gateway.KeyGatewayState: gateway.GatewayStopped})
		}
	}
}

// recordDesired records the operator's intent, as hermes's own commands
// do, for a start or stop that came from elsewhere. Best effort.
func (h *handler) recordDesired(desired string) {
	if err := gateway.SetDesiredState(h.profileDir(), desired); err != nil {
		h.event(true, "the intent "+desired+" cannot be recorded: "+err.Error())
	}
}

// persistStartType gives the service the start type that keeps the
// operator's intent across a reboot (PersistedStartType), for a stop or a
// start that did not come through hermes. Best effort: the gateway stops
// or runs either way.
func (h *handler) persistStartType(stopped bool) {
	m, err := mgr.Connect()
	if err != nil {
		h.event(true, "the start type cannot be kept: "+err.Error())
		return
	}
	defer m.Disconnect()
	s, err := m.OpenService(ServiceName(h.spec.Profile))
	if err != nil {
		h.event(true, "the start type cannot be kept: "+err.Error())
		return
	}
	defer s.Close()
	if err := persistStartType(s, stopped); err != nil {
		h.event(true, "the start type cannot be kept: "+err.Error())
	}
}

// setStopEvent sets the stop event of the runner with pid; false when the
// runner has not made it (yet).
func setStopEvent(pid int) bool {
	name, err := win.UTF16PtrFromString(gateway.StopEventName(pid))
	if err != nil {
		return false
	}
	ev, err := win.OpenEvent(win.EVENT_MODIFY_STATE, false, name)
	if err != nil {
		return false
	}
	defer win.CloseHandle(ev)
	return win.SetEvent(ev) == nil
}
