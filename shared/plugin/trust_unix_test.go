//go:build !windows

package plugin_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nousresearch/hermes-service/internal/wait"
	"github.com/nousresearch/hermes-service/shared/plugin"
	"github.com/nousresearch/hermes-service/shared/service"
)

// script writes an executable shell script and returns its path.
func script(t *testing.T, body string) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("shell scripts")
	}
	p := filepath.Join(t.TempDir(), "hermes-service-script")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestHandshakeAddressChecked: the host connects only to a socket in the
// folder it made for the plugin; a handshake naming any other address is
// refused at once, not dialled.
func TestHandshakeAddressChecked(t *testing.T) {
	for name, line := range map[string]string{
		"another program's socket": "1|1|unix|/tmp/hermes-test-foreign.sock|grpc|",
		"a TCP port":               "1|1|tcp|127.0.0.1:1|grpc|",
		"beside its folder":        "1|1|unix|" + os.TempDir() + "/plugin.sock|grpc|",
		"climbing out of it":       "1|1|unix|$PLUGIN_UNIX_SOCKET_DIR/../x.sock|grpc|",
		"no socket there":          "1|1|unix|$PLUGIN_UNIX_SOCKET_DIR/nothing|grpc|",
	} {
		t.Run(name, func(t *testing.T) {
			path := script(t, "echo \""+line+"\"\nexec sleep 30\n")
			pe, took := launchErr(t, plugin.LaunchConfig{Path: path, StartTimeout: 10 * time.Second})
			var ae *plugin.AddressError
			if !errors.As(pe, &ae) || !strings.Contains(pe.Error(), "refusing to connect") || took > 5*time.Second {
				t.Fatalf("got %v after %s", pe, took)
			}
			if !strings.Contains(service.HintOf(pe), "listens where hermes tells it to") {
				t.Fatalf("hint %q", service.HintOf(pe))
			}
		})
	}
}

// TestWrapperKilledWithItsGroup: a wrapper script that runs the plugin as
// a child without exec, and never hands over, is killed with its child
// after the start timeout; the host does not wait for the child.
func TestWrapperKilledWithItsGroup(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	path := script(t, "sleep 60 &\necho $! > "+pidFile+"\nwait\n")
	pe, took := launchErr(t, plugin.LaunchConfig{Path: path, StartTimeout: 500 * time.Millisecond})
	if !errors.Is(pe, context.DeadlineExceeded) || !strings.Contains(pe.Error(), "with its process group") || took > 5*time.Second {
		t.Fatalf("got %v after %s", pe, took)
	}
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	if err := wait.For(context.Background(), "the wrapper's child to die", 3*time.Second, func() bool { return !alive(pid) }); err != nil {
		t.Fatalf("the wrapper's child %d outlived it", pid)
	}
}

// alive is false for a process that is gone or a zombie.
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return runtime.GOOS != "linux"
	}
	i := strings.LastIndexByte(string(stat), ')')
	return i < 0 || len(stat) <= i+2 || stat[i+2] != 'Z'
}
