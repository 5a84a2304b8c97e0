package plugin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"time"
)

// pipeGrace is how long, after the plugin was killed, its output pipes are
// still read: the last lines of a dying plugin are worth having, but a
// descendant that left the plugin's process group could hold the pipes
// open for ever and, with them, go-plugin's wait for the process.
const pipeGrace = 500 * time.Millisecond

// procRunner is go-plugin's runner.Runner for a hermes plugin (the
// RunnerFunc of Launch): unlike go-plugin's own it runs the very file the
// host opened and checked, puts the plugin in a process group of its own
// and kills the whole group, and refuses a handshake that names any
// address but a socket in the folder made for this plugin.
type procRunner struct {
	path string // the plugin, as messages name it
	cmd  *exec.Cmd
	// socketDir is the fresh private folder go-plugin made for the
	// plugin's socket ("" until prepared).
	socketDir        string
	stdoutR, stderrR *os.File
	stdoutW, stderrW *os.File

	mu                      sync.Mutex
	started, waited, killed bool
	pid                     int
	closePipes              sync.Once
}

// prepare makes the command that runs exe (the plugin's file, or a name
// for the file the host holds open: see execVia) with extra files, the
// environment env, argv[0] the plugin's path.
func (r *procRunner) prepare(exe string, extra []*os.File, env []string, socketDir string) error {
	r.socketDir = socketDir
	cmd := &exec.Cmd{Path: exe, Args: []string{r.path}, Env: env, ExtraFiles: extra}
	configureCmd(cmd)
	var err error
	if r.stdoutR, r.stdoutW, err = os.Pipe(); err != nil {
		return err
	}
	if r.stderrR, r.stderrW, err = os.Pipe(); err != nil {
		r.stdoutR.Close()
		r.stdoutW.Close()
		return err
	}
	cmd.Stdout, cmd.Stderr = r.stdoutW, r.stderrW
	r.cmd = cmd
	return nil
}

// Start starts the plugin, unless the launch was already given up.
func (r *procRunner) Start(context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	defer func() {
		// The plugin has its own copies; ours would keep the pipes open.
		r.stdoutW.Close()
		r.stderrW.Close()
	}()
	if r.killed {
		r.stdoutR.Close()
		r.stderrR.Close()
		return errors.New("the launch was cancelled")
	}
	if err := r.cmd.Start(); err != nil {
		r.stdoutR.Close()
		r.stderrR.Close()
		return err
	}
	r.started, r.pid = true, r.cmd.Process.Pid
	return nil
}

// Wait waits for the plugin process to end (go-plugin calls it once the
// output pipes are closed).
func (r *procRunner) Wait(context.Context) error {
	err := r.cmd.Wait()
	r.mu.Lock()
	r.waited = true
	killed := r.killed
	r.mu.Unlock()
	// A plugin this host killed (Close, a launch given up) ended as meant:
	// not an error for go-plugin to log.
	if killed && killedBySignal(r.cmd.ProcessState) {
		return nil
	}
	return err
}

// Kill ends the plugin and its process group: a wrapper script that runs
// the real plugin as its child goes with it. It may come before Start (the
// launch is then refused) and any number of times.
func (r *procRunner) Kill(context.Context) error {
	r.mu.Lock()
	r.killed = true
	live := r.started && !r.waited
	r.mu.Unlock()
	if !live {
		return nil
	}
	err := killTree(r.cmd.Process)
	r.closePipes.Do(func() {
		time.AfterFunc(pipeGrace, func() {
			r.stdoutR.Close()
			r.stderrR.Close()
		})
	})
	return err
}

func (r *procRunner) Stdout() io.ReadCloser { return r.stdoutR }
func (r *procRunner) Stderr() io.ReadCloser { return r.stderrR }
func (r *procRunner) Name() string          { return r.path }

// ID is the plugin's pid, "" before it started.
func (r *procRunner) ID() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pid == 0 {
		return ""
	}
	return strconv.Itoa(r.pid)
}

// Pid is the plugin's pid while it runs, 0 before and after.
func (r *procRunner) Pid() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.waited {
		return 0
	}
	return r.pid
}

// Diagnose adds to go-plugin's "unrecognized remote plugin message".
func (r *procRunner) Diagnose(context.Context) string {
	return fmt.Sprintf("a hermes plugin's first line on stdout is its go-plugin handshake; %s printed none (is it a plugin, built for this platform?)", r.path)
}

// PluginToHost refuses every address but the one hermes expects: see
// checkAddr.
func (r *procRunner) PluginToHost(network, addr string) (string, string, error) {
	if err := checkAddr(network, addr, r.socketDir); err != nil {
		return "", "", err
	}
	return network, addr, nil
}

// HostToPlugin is the identity: host and plugin share a machine.
func (r *procRunner) HostToPlugin(network, addr string) (string, string, error) {
	return network, addr, nil
}

// AddressError is a handshake naming an address the host will not connect
// to: not the plugin's own socket in the folder made for it.
type AddressError struct {
	Network, Address string
	// Want says where the address had to be.
	Want string
}

func (e *AddressError) Error() string {
	return fmt.Sprintf("its handshake names the %s address %s, not %s; refusing to connect", e.Network, e.Address, e.Want)
}

// Hint says what it means.
func (e *AddressError) Hint() string {
	return "a hermes plugin listens where hermes tells it to (the SDK does so by itself): this one is not a hermes plugin, or something is posing as one"
}
