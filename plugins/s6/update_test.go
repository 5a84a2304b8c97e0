//go:build linux

package s6_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// soul gives each profile a SOUL.md, which makes reconcile see it.
func (tr *tree) soul(profiles ...string) {
	tr.t.Helper()
	for _, p := range profiles {
		if err := os.MkdirAll(tr.profileDir(p), 0o755); err != nil {
			tr.t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(tr.profileDir(p), "SOUL.md"), nil, 0o644); err != nil {
			tr.t.Fatal(err)
		}
	}
}

// supervisorPID is the pid of the s6-supervise working in dir.
func (tr *tree) supervisorPID(dir string) string {
	tr.t.Helper()
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		cwd, err := os.Readlink(filepath.Join("/proc", e.Name(), "cwd"))
		comm, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "comm"))
		if err == nil && cwd == dir && strings.TrimSpace(string(comm)) == "s6-supervise" {
			return e.Name()
		}
	}
	return ""
}

// TestReconcileLeavesARightSlotAlone: reconcile on a live tree restarts no
// supervisor and no gateway whose registration is unchanged; a profile
// whose settings changed (register --force) is updated in place, and only
// its gateway restarts.
func TestReconcileLeavesARightSlotAlone(t *testing.T) {
	tr := newTree(t)
	profiles := []string{"one", "two", "idle"}
	tr.soul(profiles...)
	tr.register("one")
	tr.register("two")
	tr.register("idle", "--no-start")
	pids := map[string]int{"one": tr.waitUp("one"), "two": tr.waitUp("two")}
	supervisors := map[string]string{}
	for _, p := range profiles {
		supervisors[p] = tr.supervisorPID(tr.slot(p))
		if supervisors[p] == "" {
			t.Fatalf("no s6-supervise on %s", tr.slot(p))
		}
	}

	for round := range 2 {
		tr.must("gateway", "reconcile")
		for _, p := range profiles {
			if got := tr.supervisorPID(tr.slot(p)); got != supervisors[p] {
				t.Fatalf("reconcile %d replaced the supervisor of %s: %s, was %s", round, p, got, supervisors[p])
			}
		}
		for p, pid := range pids {
			if got := tr.waitUp(p); got != pid {
				t.Fatalf("reconcile %d restarted %s: pid %d, was %d", round, p, got, pid)
			}
		}
		if _, err := os.Stat(filepath.Join(tr.slot("idle"), "down")); err != nil {
			t.Fatalf("reconcile %d: the stopped profile lost its down file: %v", round, err)
		}
		if m := tr.svstat("idle", "up"); m["up"] != "false" {
			t.Fatalf("reconcile %d started the profile registered down: %v", round, m)
		}
	}

	// New settings for one: only its gateway restarts, with them.
	tr.must("-p", "one", "gateway", "register", "--force", "--protocol", "plain", "--env", "CHANGED=yes")
	tr.waitFor("one to restart with its new settings", func() bool {
		pid := tr.waitUp("one")
		env, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "environ"))
		return pid != pids["one"] && strings.Contains(string(env), "CHANGED=yes")
	})
	if got := tr.supervisorPID(tr.slot("one")); got != supervisors["one"] {
		t.Fatalf("register --force replaced the supervisor of one: %s, was %s", got, supervisors["one"])
	}
	if got := tr.waitUp("two"); got != pids["two"] {
		t.Fatalf("register --force of one restarted two: pid %d, was %d", got, pids["two"])
	}
	pids["one"] = tr.waitUp("one")
	tr.must("gateway", "reconcile") // the settings are on the volume: nothing to change
	if got := tr.waitUp("one"); got != pids["one"] {
		t.Fatalf("reconcile after register --force restarted one: pid %d, was %d", got, pids["one"])
	}
	if _, errOut, code := tr.hermes("-p", "two", "gateway", "register", "--protocol", "plain", "--env", "OTHER=1"); code == 0 ||
		!strings.Contains(errOut, "--force") {
		t.Fatalf("register of a registered profile with other settings: exit %d, want an error naming --force:\n%s", code, errOut)
	}
}

// TestRegisterAndStartRepairAnUnsupervisedSlot: a register killed between
// placing the slot and the rescan leaves a slot no s6-supervise runs on;
// the same register again, or a start, gives it one and starts it.
func TestRegisterAndStartRepairAnUnsupervisedSlot(t *testing.T) {
	tr := newTree(t)
	for _, verb := range []string{"register", "start"} {
		t.Run(verb, func(t *testing.T) {
			p := "orphan" + verb
			tr.register(p, "--no-start")
			tr.waitFor("a supervisor on "+p, func() bool { return tr.supervisorPID(tr.slot(p)) != "" })
			// Take the slot out of s6-svscan's sight and put it back without
			// a rescan: placed, unsupervised.
			aside := filepath.Join(filepath.Dir(tr.scandir), "aside-"+p)
			if err := os.Rename(tr.slot(p), aside); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command("s6-svscanctl", "-an", tr.scandir).CombinedOutput(); err != nil {
				t.Fatalf("s6-svscanctl: %v\n%s", err, out)
			}
			tr.waitFor("the supervisor of "+p+" to end", func() bool { return tr.supervisorPID(aside) == "" })
			if err := os.Rename(aside, tr.slot(p)); err != nil {
				t.Fatal(err)
			}
			if verb == "register" {
				tr.register(p)
			} else {
				tr.must("-p", p, "gateway", "start")
			}
			tr.waitUp(p)
		})
	}
}
