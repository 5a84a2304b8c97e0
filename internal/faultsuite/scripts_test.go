//go:build linux

package faultsuite

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nousresearch/hermes-service/internal/wait"
	"github.com/nousresearch/hermes-service/shared/gateway"
)

// newFaultHome is newHome in a test whose temporary folders the service
// user can reach: t.TempDir's folders sit in a per-test folder only root
// may enter (mode 0700), and the service user plants from inside them.
func newFaultHome(t *testing.T) *home {
	t.Helper()
	traversable(t)
	return newHome(t)
}

// traversable opens the test's folder of temporary folders to every
// account (0755), as /tmp is.
func traversable(t *testing.T) {
	t.Helper()
	if err := os.Chmod(filepath.Dir(t.TempDir()), 0o755); err != nil {
		t.Fatal(err)
	}
}

// s6Tree is a private s6 supervision tree as upstream's image has one:
// s6-svscan runs as root on a scandir that the service user owns (the
// image chowns /run/service to it), so the service user may plant
// anything there.
type s6Tree struct {
	t       *testing.T
	scandir string
	svscan  *exec.Cmd
	out     lockedBuffer
	done    chan struct{}
}

// newS6Tree starts s6-svscan on a fresh scandir owned by the service user,
// in a root-owned folder; the test's cleanup stops it and every
// supervisor under it.
func newS6Tree(t *testing.T) *s6Tree {
	t.Helper()
	if _, err := exec.LookPath("s6-svscan"); err != nil {
		t.Fatal("the s6 fault cases need s6-svscan (make deps installs it)")
	}
	base := t.TempDir()
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	tr := &s6Tree{t: t, scandir: filepath.Join(base, "service"), done: make(chan struct{})}
	if err := os.Mkdir(tr.scandir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(tr.scandir, svc.uid, svc.gid); err != nil {
		t.Fatal(err)
	}
	tr.svscan = exec.Command("s6-svscan", tr.scandir)
	tr.svscan.Env = []string{"PATH=" + os.Getenv("PATH")}
	tr.svscan.Stdout, tr.svscan.Stderr = &tr.out, &tr.out
	tr.svscan.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := tr.svscan.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = tr.svscan.Wait(); close(tr.done) }()
	t.Cleanup(tr.stop)
	tr.waitFor("s6-svscan to listen", func() bool {
		_, err := os.Stat(filepath.Join(tr.scandir, ".s6-svscan", "control"))
		return err == nil
	})
	return tr
}

// stop ends the tree: s6-svscan is told to terminate (its supervisors take
// their services down), else its process group is killed; then the test
// waits for every process working in the scandir to be gone.
func (tr *s6Tree) stop() {
	_ = exec.Command("s6-svscanctl", "-t", tr.scandir).Run()
	select {
	case <-tr.done:
	case <-time.After(15 * time.Second):
		_ = syscall.Kill(-tr.svscan.Process.Pid, syscall.SIGKILL)
		<-tr.done
	}
	if err := wait.For(context.Background(), "the supervisors to end", 20*time.Second, func() bool {
		return len(tr.liveUnder()) == 0
	}); err != nil {
		for _, pid := range tr.liveUnder() {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// liveUnder lists the processes (not zombies) whose working folder is in
// the scandir: supervisors, loggers, gateways.
func (tr *s6Tree) liveUnder() []int {
	var out []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		var pid int
		if _, err := fmt.Sscan(e.Name(), &pid); err != nil {
			continue
		}
		cwd, err := os.Readlink(filepath.Join("/proc", e.Name(), "cwd"))
		if err != nil || !strings.HasPrefix(cwd, tr.scandir) {
			continue
		}
		stat, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if i := bytes.LastIndexByte(stat, ')'); i > 0 && len(stat) > i+2 && stat[i+2] == 'Z' {
			continue
		}
		out = append(out, pid)
	}
	return out
}

func (tr *s6Tree) waitFor(what string, cond func() bool) {
	tr.t.Helper()
	if err := wait.For(context.Background(), what, 20*time.Second, cond); err != nil {
		tr.t.Fatalf("%v\ns6-svscan output:\n%s", err, tr.out.String())
	}
}

// env is hermes's environment against this tree: the s6 backend, gateways
// run as the service user.
func (tr *s6Tree) env(extra ...string) []string {
	return append([]string{"HERMES_SERVICE_BACKEND=s6", "HERMES_S6_SCANDIR=" + tr.scandir, "HERMES_S6_USER=" + svc.name,
		"HERMES_PLUGIN_PATH=" + bins.dir}, extra...)
}

// slot is the path of a profile's slot.
func (tr *s6Tree) slot(profile string) string { return filepath.Join(tr.scandir, "gateway-"+profile) }

// plant runs shell as the service user in the scandir.
func (tr *s6Tree) plant(h *home, script string) {
	tr.t.Helper()
	cmd := asUser(exec.Command("sh", "-ec", script))
	cmd.Dir = tr.scandir
	cmd.Env = []string{"PATH=/usr/bin:/bin", "OUTSIDE=" + h.outside, "SCANDIR=" + tr.scandir}
	if out, err := cmd.CombinedOutput(); err != nil {
		tr.t.Fatalf("planting as %s: %v\n%s\n%s", svc.name, err, script, out)
	}
}

// registerArgs registers the test gateway under the plain protocol.
func registerArgs(profile string, extra ...string) []string {
	return append([]string{"-p", profile, "gateway", "register", "--protocol", "plain", "--gateway-command", bins.testGateway}, extra...)
}

// isRealSlot fails unless path is a folder (not a link) holding a run
// script: a slot hermes made.
func isRealSlot(t *testing.T, path string) {
	t.Helper()
	info, err := os.Lstat(path)
	if err != nil || !info.IsDir() {
		t.Fatalf("%s is not a slot folder: %v %v", path, info, err)
	}
	if _, err := os.Lstat(filepath.Join(path, "run")); err != nil {
		t.Fatalf("%s has no run script: %v", path, err)
	}
}

// emptyDir fails unless dir holds nothing.
func emptyDir(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 0 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("%s was written to (%v): %v", dir, err, names)
	}
}

// rootDecoy is a root-owned folder (0755) outside the home, with a
// root-owned supervise folder in it, and a root-owned 0600 victim file
// beside it: what a planted link would have root create, write, chmod or
// chown in.
type rootDecoy struct {
	dir, victim string
}

const scandirVictimContent = "root's secret\n"

func newRootDecoy(t *testing.T) rootDecoy {
	t.Helper()
	base := t.TempDir()
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	d := rootDecoy{dir: filepath.Join(base, "decoy"), victim: filepath.Join(base, "victim")}
	for _, dir := range []string{d.dir, filepath.Join(d.dir, "supervise"), filepath.Join(d.dir, "event")} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(d.victim, []byte(scandirVictimContent), 0o600); err != nil {
		t.Fatal(err)
	}
	return d
}

// intact fails unless the decoy folders are empty and the victim holds
// its content, mode and owner.
func (d rootDecoy) intact(t *testing.T) {
	t.Helper()
	for _, dir := range []string{filepath.Join(d.dir, "supervise"), filepath.Join(d.dir, "event")} {
		emptyDir(t, dir)
	}
	entries, _ := os.ReadDir(d.dir)
	if len(entries) != 2 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("something was created in %s: %v", d.dir, names)
	}
	data, err := os.ReadFile(d.victim)
	info, serr := os.Stat(d.victim)
	if err != nil || string(data) != scandirVictimContent || serr != nil || info.Mode().Perm() != 0o600 ||
		info.Sys().(*syscall.Stat_t).Uid != 0 {
		t.Errorf("the victim %s was changed: %q %v %v", d.victim, data, info.Mode(), err)
	}
}

// TestS6ScandirFaults: the service user owns the s6 scandir and plants
// links and FIFOs in it; hermes, as root, registers, starts, stops,
// unregisters and reconciles beside them, and never writes, creates,
// chmods or chowns through them, nor hangs on them.
func TestS6ScandirFaults(t *testing.T) {
	t.Run("a link at the staging folder", func(t *testing.T) {
		h, tr, d := newFaultHome(t), newS6Tree(t), newRootDecoy(t)
		tr.plant(h, "ln -s "+d.dir+" .gateway-work.tmp")
		if r := h.hermes(tr.env(), registerArgs("work", "--no-start")...); r.code != 0 {
			t.Fatalf("register: %s", r)
		}
		isRealSlot(t, tr.slot("work"))
		d.intact(t)
	})

	t.Run("a link at the lock file", func(t *testing.T) {
		h, tr, d := newFaultHome(t), newS6Tree(t), newRootDecoy(t)
		tr.plant(h, "ln -s "+filepath.Join(d.dir, "created-by-root")+" .gateway-work.lock; ln -s "+d.victim+" .gateway-other.lock")
		for _, p := range []string{"work", "other"} {
			r := h.hermes(tr.env(), registerArgs(p, "--no-start")...)
			if r.code != 1 || !strings.Contains(r.stderr, "refusing to use "+filepath.Join(tr.scandir, ".gateway-"+p+".lock")+": it is a symbolic link") {
				t.Fatalf("register %s: %s", p, r)
			}
			if _, err := os.Lstat(tr.slot(p)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a slot was made past a refused lock: %v", err)
			}
		}
		d.intact(t)
	})

	t.Run("a link at the slot", func(t *testing.T) {
		h, tr, d := newFaultHome(t), newS6Tree(t), newRootDecoy(t)
		tr.plant(h, "ln -s "+d.dir+" gateway-work")
		// Lifecycle commands do not take a link for a slot.
		for _, verb := range []string{"start", "stop", "restart"} {
			if r := h.hermes(tr.env(), "-p", "work", "gateway", verb); r.code != 1 || !strings.Contains(r.stderr, "not registered") {
				t.Errorf("%s through a linked slot: %s", verb, r)
			}
		}
		if r := h.hermes(tr.env(), "-p", "work", "gateway", "unregister"); r.code != 0 {
			t.Errorf("unregister of a linked slot: %s", r)
		}
		d.intact(t)
		// register replaces the link with a slot of its own.
		if r := h.hermes(tr.env(), registerArgs("work", "--no-start")...); r.code != 0 {
			t.Fatalf("register over a linked slot: %s", r)
		}
		isRealSlot(t, tr.slot("work"))
		d.intact(t)
	})

	t.Run("a replaced slot: links at down, supervise and event", func(t *testing.T) {
		h, tr, d := newFaultHome(t), newS6Tree(t), newRootDecoy(t)
		if r := h.hermes(tr.env(), registerArgs("work", "--no-start")...); r.code != 0 {
			t.Fatalf("register: %s", r)
		}
		// The service user swaps the slot for a folder of its own, whose
		// down file, supervise and event lead outside.
		tr.plant(h, `mv gateway-work .mine; mkdir gateway-work; cd gateway-work
ln -s `+d.victim+` down; ln -s `+d.dir+` supervise; ln -s `+filepath.Join(d.dir, "event")+` event
printf x > timeout-kill`)
		// stop would create the down file: refused.
		r := h.hermes(tr.env(), "-p", "work", "gateway", "stop")
		if r.code != 1 || !strings.Contains(r.stderr, "refusing to use "+filepath.Join(tr.slot("work"), "down")) {
			t.Errorf("stop: %s", r)
		}
		// start removes the down link (never what it leads to), then will
		// not have s6-svc go through the linked supervise.
		r = h.hermes(tr.env(), "-p", "work", "gateway", "start")
		if r.code != 1 || !strings.Contains(r.stderr, "refusing to use "+filepath.Join(tr.slot("work"), "supervise")) {
			t.Errorf("start: %s", r)
		}
		d.intact(t)
		if r := h.hermes(tr.env(), "-p", "work", "gateway", "unregister"); r.code != 0 {
			t.Errorf("unregister: %s", r)
		}
		d.intact(t)
	})

	t.Run("a replaced slot: links at log and supervise/control", func(t *testing.T) {
		h, tr, d := newFaultHome(t), newS6Tree(t), newRootDecoy(t)
		tr.plant(h, `mkdir gateway-work; cd gateway-work; ln -s `+d.dir+` log; mkdir supervise; ln -s `+d.victim+` supervise/control`)
		// unregister tells the slot's supervisor to go down (s6-svc -d
		// writes into supervise/control), then waits on supervise/lock and
		// log/supervise/lock before it removes the slot: the tool runs as
		// the slot's owner, and no lock is opened through the link.
		if r := h.hermes(tr.env(), "-p", "work", "gateway", "unregister"); r.code != 0 {
			t.Errorf("unregister: %s", r)
		}
		if _, err := os.Lstat(tr.slot("work")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("the slot is still there: %v", err)
		}
		d.intact(t)
	})

	t.Run("a link at supervise/control of a real slot", func(t *testing.T) {
		h, tr, d := newFaultHome(t), newS6Tree(t), newRootDecoy(t)
		if r := h.hermes(tr.env(), registerArgs("work", "--no-start")...); r.code != 0 {
			t.Fatalf("register: %s", r)
		}
		tr.waitFor("s6-supervise on the slot", func() bool {
			_, err := os.Stat(filepath.Join(tr.slot("work"), "supervise", "lock"))
			return err == nil
		})
		// supervise is the service user's (seedSkeleton hands it over):
		// its control FIFO becomes a link to root's file, its lock a link
		// into root's folder.
		tr.plant(h, `cd gateway-work/supervise; rm control; ln -s `+d.victim+` control`)
		// s6-svc runs as the folder's owner, who cannot write root's file.
		r := h.hermes(tr.env(), "-p", "work", "gateway", "start")
		if r.code != 1 || !strings.Contains(r.stderr, "s6-svc -u failed for gateway-work") {
			t.Errorf("start: %s", r)
		}
		d.intact(t)
		r = h.hermes(tr.env(), "-p", "work", "gateway", "stop")
		if r.code != 1 {
			t.Errorf("stop: %s", r)
		}
		d.intact(t)
		tr.plant(h, `cd gateway-work/supervise; rm lock; ln -s `+filepath.Join(d.dir, "supervise", "lock")+` lock`)
		if r := h.hermes(tr.env(), "-p", "work", "gateway", "unregister"); r.code != 0 {
			t.Errorf("unregister: %s", r)
		}
		d.intact(t)
	})

	t.Run("a FIFO at supervise/status does not hang status", func(t *testing.T) {
		h, tr := newFaultHome(t), newS6Tree(t)
		if r := h.hermes(tr.env(), registerArgs("work", "--no-start")...); r.code != 0 {
			t.Fatalf("register: %s", r)
		}
		tr.waitFor("s6-supervise on the slot", func() bool {
			_, err := os.Stat(filepath.Join(tr.slot("work"), "supervise", "status"))
			return err == nil
		})
		tr.plant(h, `cd gateway-work/supervise; rm -f status; mkfifo status`)
		start := time.Now()
		h.hermes(tr.env(), "gateway", "status", "--all")
		h.hermes(tr.env(), "-p", "work", "gateway", "status")
		if time.Since(start) > 30*time.Second {
			t.Errorf("status took %s", time.Since(start))
		}
	})

	t.Run("reconcile beside planted links", func(t *testing.T) {
		h, tr, d := newFaultHome(t), newS6Tree(t), newRootDecoy(t)
		h.plant(`mkdir -p profiles/work && : > profiles/work/SOUL.md`)
		tr.plant(h, "ln -s "+d.dir+" gateway-work; ln -s "+d.dir+" .gateway-default.tmp; ln -s "+d.dir+" .gateway-work.old")
		if r := h.hermes(tr.env(), "gateway", "reconcile"); r.code != 0 {
			t.Fatalf("reconcile: %s", r)
		}
		isRealSlot(t, tr.slot("work"))
		isRealSlot(t, tr.slot("default"))
		d.intact(t)
	})
}

// TestS6ScriptFaults: the values hermes writes into the slot's scripts
// reach the gateway as given, run nothing, and what the scripts cannot
// carry is refused (exit 2) before anything is written.
func TestS6ScriptFaults(t *testing.T) {
	t.Run("a hostile home reaches the gateway as given", func(t *testing.T) {
		traversable(t)
		base := t.TempDir()
		if err := os.Chmod(base, 0o755); err != nil {
			t.Fatal(err)
		}
		// A home path as hostile as the service user could make one.
		root := filepath.Join(base, "home $(touch pwned) `touch pwned2` } \" ' \\ %s $HOME\ttab")
		h := &home{t: t, root: root, outside: filepath.Join(base, "outside")}
		for _, dir := range []string{h.root, h.outside} {
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Chown(h.root, svc.uid, svc.gid); err != nil {
			t.Fatal(err)
		}
		// The profile's folder is the user's (as upstream's CLI makes it),
		// for the gateway to write in.
		h.plant("mkdir -p profiles/work")
		tr := newS6Tree(t)
		if r := h.hermes(tr.env(), registerArgs("work")...); r.code != 0 {
			t.Fatalf("register: %s", r)
		}
		dir := filepath.Join(h.root, "profiles", "work")
		tr.waitFor("the gateway to run in the hostile home", func() bool {
			st, _ := gateway.ReadState(dir)
			return st.GatewayState() == gateway.GatewayRunning
		})
		tr.waitFor("the logger to write in the hostile home", func() bool {
			_, err := os.Stat(filepath.Join(h.root, "logs", "gateways", "work", "current"))
			return err == nil
		})
		// The scripts run in the slot and its log folder: a command
		// substitution that ran would have left its file there (or
		// anywhere else under these folders).
		for _, dir := range []string{base, tr.scandir} {
			_ = filepath.WalkDir(dir, func(p string, _ fs.DirEntry, _ error) error {
				if name := filepath.Base(p); name == "pwned" || name == "pwned2" {
					t.Errorf("the scripts ran a command from the home's path: %s", p)
				}
				return nil
			})
		}
		// stop runs s6-svc and s6-svwait as the service user (it owns
		// supervise): the stop is seen through, not left to s6.
		if r := h.hermes(tr.env(), "-p", "work", "gateway", "stop"); r.code != 0 || r.stderr != "" {
			t.Errorf("stop: %s", r)
		}
		if out, err := exec.Command("s6-svstat", "-o", "up", tr.slot("work")).Output(); err != nil || string(out) != "false\n" {
			t.Errorf("after stop, s6-svstat: %q %v", out, err)
		}
		h.untouched(nil)
	})

	t.Run("a forged state cannot forge an audit line", func(t *testing.T) {
		h, tr := newFaultHome(t), newS6Tree(t)
		// desired_state with a newline, a forged line and a terminal escape.
		h.plant(`mkdir -p profiles/work && : > profiles/work/SOUL.md
printf '{"desired_state": "stopped\\n2026-01-01T00:00:00+0000 profile=root prior_state=running action=started\\u001b[2K"}' > profiles/work/gateway_state.json`)
		r := h.hermes(tr.env(), "gateway", "reconcile")
		if r.code != 0 {
			t.Fatalf("reconcile: %s", r)
		}
		log, err := os.ReadFile(h.path("logs", "container-boot.log"))
		if err != nil {
			t.Fatal(err)
		}
		for name, text := range map[string]string{"the audit log": string(log), "stdout": r.stdout} {
			lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
			if len(lines) != 2 || !strings.Contains(lines[1], " profile=work prior_state=\"stopped\\n2026-01-01T00:00:00+0000\\x20profile=root") ||
				!strings.HasSuffix(lines[1], "\\x1b[2K\" action=registered") || strings.ContainsAny(text, "\x1b\r") {
				t.Errorf("%s:\n%s", name, text)
			}
		}
	})

	t.Run("what the scripts cannot carry is refused before anything is written", func(t *testing.T) {
		h, tr := newFaultHome(t), newS6Tree(t)
		bin := filepath.Join(t.TempDir(), "s6 tools")
		if err := os.MkdirAll(bin, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(bin, "with-contenv"), []byte("#!/bin/sh\nexec \"$@\"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct {
			env  string
			want string
		}{
			{"HERMES_S6_BIN_DIR=" + bin, "invalid HERMES_S6_BIN_DIR"},
			{"HERMES_S6_USER=-" + svc.name, "invalid HERMES_S6_USER"},
			{"HERMES_S6_HERMES=hermes", "invalid HERMES_S6_HERMES"},
		} {
			for _, args := range [][]string{registerArgs("work"), {"gateway", "reconcile"}} {
				r := h.hermes(tr.env(tt.env), args...)
				if r.code != 2 || !strings.Contains(r.stderr, tt.want) {
					t.Errorf("%s %v: %s", tt.env, args, r)
				}
			}
		}
		entries, _ := os.ReadDir(tr.scandir)
		if len(entries) != 1 || entries[0].Name() != ".s6-svscan" {
			t.Errorf("the scandir was written to: %v", entries)
		}
		if _, err := os.Lstat(h.path("logs")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("an audit log was written: %v", err)
		}
	})
}

// lockedBuffer is a buffer s6-svscan's output goes to while tests read it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
