package backend

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

	"github.com/hashicorp/go-hclog"
)

// TestToolDiesWithItsParent: a plugin killed while it runs a tool (its host
// was SIGKILLed) must not leave the tool behind.
func TestToolDiesWithItsParent(t *testing.T) {
	if os.Getenv("HERMES_TOOL_PARENT") == "1" {
		// The plugin: run a tool that hangs, in a group of its own so
		// that only the parent-death signal can end it.
		b := NewBaseFor(Identity{}, os.TempDir(), hclog.NewNullLogger())
		_, _ = b.RunTool(context.Background(), Tool{Path: "sleep", Args: []string{"60"},
			SysProcAttr: &syscall.SysProcAttr{Setpgid: true}})
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestToolDiesWithItsParent$")
	cmd.Env = append(os.Environ(), "HERMES_TOOL_PARENT=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var tool int
	deadline := time.Now().Add(10 * time.Second)
	for tool == 0 && time.Now().Before(deadline) {
		tool = childOf(cmd.Process.Pid, "sleep")
		time.Sleep(20 * time.Millisecond)
	}
	if tool == 0 {
		_ = cmd.Process.Kill()
		t.Fatal("the tool did not start")
	}
	t.Cleanup(func() { _ = syscall.Kill(tool, syscall.SIGKILL) })
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	deadline = time.Now().Add(5 * time.Second)
	for alive(tool) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if alive(tool) {
		t.Fatalf("tool %d outlived the process that ran it", tool)
	}
}

// childOf is the pid of parent's child running comm, 0 when none.
func childOf(parent int, comm string) int {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		f, err := os.Open("/proc/" + e.Name() + "/status")
		if err != nil {
			continue
		}
		var name string
		var ppid int
		s := bufio.NewScanner(f)
		for s.Scan() {
			if v, ok := strings.CutPrefix(s.Text(), "Name:"); ok {
				name = strings.TrimSpace(v)
			}
			if v, ok := strings.CutPrefix(s.Text(), "PPid:"); ok {
				ppid, _ = strconv.Atoi(strings.TrimSpace(v))
			}
		}
		f.Close()
		if ppid == parent && name == comm {
			return pid
		}
	}
	return 0
}

// alive: the process exists and is not a zombie.
func alive(pid int) bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || len(s) < i+3 || s[i+2] != 'Z'
}
