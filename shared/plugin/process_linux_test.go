package plugin_test

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nousresearch/hermes-service/internal/proctest"
	"github.com/nousresearch/hermes-service/internal/wait"
)

// livePIDs lists the live processes running the executable at path.
func livePIDs(path string) []string { return proctest.Live(proctest.Is(path)) }

// assertNoProcess fails when a process of the plugin at path is still alive
// a moment later.
func assertNoProcess(t *testing.T, path string) {
	t.Helper()
	var pids []string
	if err := wait.For(context.Background(), "the plugin's processes to exit", 3*time.Second, func() bool {
		pids = livePIDs(path)
		return len(pids) == 0
	}); err != nil {
		t.Fatalf("plugin processes left behind: %v", pids)
	}
}

// TestPluginDiesWithAKilledHost kills a host with SIGKILL, so that it has
// no chance to clean up, and expects the kernel to take its plugin along.
func TestPluginDiesWithAKilledHost(t *testing.T) {
	host := exec.Command(os.Args[0], "-test.run=^$")
	host.Env = append(os.Environ(), "HERMES_TEST_HOST=1", "HERMES_TEST_PLUGIN="+testPlugin)
	host.Stderr = os.Stderr
	out, err := host.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := host.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		_ = host.Process.Kill()
		t.Fatalf("host said nothing: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || pid <= 0 {
		t.Fatalf("host printed %q", line)
	}
	if err := syscall.Kill(pid, 0); err != nil {
		t.Fatalf("plugin %d not running: %v", pid, err)
	}
	_ = host.Process.Signal(syscall.SIGKILL)
	_ = host.Wait()
	assertNoProcess(t, testPlugin)
}
