//go:build linux

package runner

import "syscall"

// setParentDeathSignal has the kernel send the gateway sig if its runner
// dies without stopping it (SIGKILL, the OOM killer): no gateway outlives
// its runner to run beside the next one.
//
// The kernel sends it when the thread that forked the child exits, not the
// process (go.dev/issue/27505), and os/exec forks from whichever thread
// runs the calling goroutine. The Go runtime ends a thread only when a
// goroutine locked to it (runtime.LockOSThread) returns without unlocking.
// The runner locks no goroutine, nor does anything it links (the runtime's
// own locked goroutine, os/signal's, never returns), so the thread that
// forked the gateway lives as long as the runner does.
func setParentDeathSignal(attr *syscall.SysProcAttr, sig syscall.Signal) { attr.Pdeathsig = sig }
