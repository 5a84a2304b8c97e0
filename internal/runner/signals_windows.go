//go:build windows

package runner

import (
	"errors"
	"os"
	"os/exec"
	"os/signal"

	"golang.org/x/sys/windows"

	"github.com/nousresearch/hermes-service/shared/gateway"
)

// stopRequest is the Windows stand-in for SIGTERM: the service wrapper set
// the runner's stop event (gateway.StopEventName).
type stopRequest struct{}

func (stopRequest) String() string { return "stop request" }
func (stopRequest) Signal()        {}

// notifySignals delivers Ctrl-C (a planned stop) and the stop event, which
// like SIGTERM is planned only when the marker names this runner.
func notifySignals() chan os.Signal {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, os.Interrupt)
	name, err := windows.UTF16PtrFromString(gateway.StopEventName(os.Getpid()))
	if err != nil {
		return sigs
	}
	ev, err := windows.CreateEvent(nil, 1, 0, name)
	if err != nil {
		return sigs
	}
	go func() {
		if e, _ := windows.WaitForSingleObject(ev, windows.INFINITE); e == windows.WAIT_OBJECT_0 {
			sigs <- stopRequest{}
		}
	}()
	return sigs
}

func stopSignals(sigs chan os.Signal) { signal.Stop(sigs) }

func isInterrupt(sig os.Signal) bool { return sig == os.Interrupt }
func isTerminate(sig os.Signal) bool { _, ok := sig.(stopRequest); return ok }

func configureChild(*exec.Cmd) {}

func forward(*exec.Cmd, os.Signal) error { return nil }

// terminateChild has no gentle way to stop an arbitrary program on
// Windows: the gateway is ended.
func terminateChild(child *exec.Cmd) error { return child.Process.Kill() }
func killChild(child *exec.Cmd) error      { return child.Process.Kill() }

// processGroups: Windows has none the runner could record or kill.
const processGroups = false

func ownGroup() int { return -1 }

func killGroup(int) error { return errors.New("process groups cannot be killed on Windows") }

// terminateSignal is what a stop from the service wrapper is.
var terminateSignal os.Signal = stopRequest{}

func resetStopSignals() { signal.Reset(os.Interrupt) }
