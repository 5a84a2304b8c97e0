//go:build linux

package faultsuite

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nousresearch/hermes-service/internal/fakecmd"
	"github.com/nousresearch/hermes-service/internal/wait"
	"github.com/nousresearch/hermes-service/shared/gateway"
)

// Issue 15's filesystem cases: for every path hermes writes in a home, the
// service user plants a symlink at a root-owned file and at a root-owned
// folder outside the home, then root runs each command that writes it.
// Each must refuse, or do its work without going through the link: the
// victims unchanged, nothing made outside the home, nothing in the home
// that the user does not own, and the documented exit code. Then the same
// for oversized files (bounded memory), and the sweep: a home after every
// lifecycle command run as root, on every backend that runs here, holds
// nothing its owner does not own.

// outsideFixture is what a planted link points at: a root-only file with
// content, and an empty root-owned folder.
type outsideFixture struct{ file, folder string }

const victimContent = "root only\n"

func (h *home) fixture() outsideFixture {
	h.t.Helper()
	o := outsideFixture{file: h.victim("victim", victimContent), folder: filepath.Join(h.outside, "folder")}
	if err := os.Mkdir(o.folder, 0o700); err != nil {
		h.t.Fatal(err)
	}
	return o
}

// unchanged fails unless the victim file holds its content and mode, the
// folder is still empty, and nothing else appeared outside the home.
func (h *home) unchanged(o outsideFixture) {
	h.t.Helper()
	if data, err := os.ReadFile(o.file); err != nil || string(data) != victimContent {
		h.t.Errorf("%s outside the home was changed (%v): %q", o.file, err, data)
	}
	if info, err := os.Stat(o.file); err != nil || info.Mode().Perm() != 0o600 {
		h.t.Errorf("%s outside the home changed mode: %v %v", o.file, info, err)
	}
	if entries, _ := os.ReadDir(o.folder); len(entries) > 0 {
		h.t.Errorf("something was made in %s outside the home: %v", o.folder, entries)
	}
	if entries, _ := os.ReadDir(h.outside); len(entries) != 2 {
		h.t.Errorf("something was made outside the home: %v", entries)
	}
}

// testBackend is the environment for the test plugin, its state kept in a
// root-owned folder beside the home.
func testBackend(t *testing.T) []string {
	return []string{"HERMES_SERVICE_BACKEND=test", "HERMES_PLUGIN_PATH=" + bins.dir, "HERMES_TESTBACKEND_DIR=" + t.TempDir(),
		"HERMES_UPSTREAM_CLI=sh"}
}

// step is one hermes run as root, and what it must end with.
type step struct {
	args []string
	code int
	// say is in its stdout or stderr.
	say string
}

func run(args ...string) step { return step{args: args} }

func (s step) exits(code int, say string) step { s.code, s.say = code, say; return s }

// expect runs s and checks its exit code and words.
func (h *home) expect(env []string, s step) result {
	h.t.Helper()
	r := h.hermes(env, s.args...)
	if r.code != s.code || !strings.Contains(r.stdout+r.stderr, s.say) {
		h.t.Errorf("hermes %s: want exit %d saying %q, got %s", strings.Join(s.args, " "), s.code, s.say, r)
	}
	return r
}

const (
	refused   = "it is a symbolic link, and hermes follows none inside a Hermes home"
	rmHint    = "hint: remove the link (rm "
	runTrue   = "/bin/true"
	noBackend = "" // no HERMES_SERVICE_BACKEND: nothing is detected in the suite's container
)

// linkCase plants one link ($T is its target) and runs root's commands.
type linkCase struct {
	name  string
	plant string
	// test: the commands run with the test backend; else with none.
	test  bool
	steps []step
	check func(h *home)
}

func linkCases() []linkCase {
	work := func(args ...string) []string { return append([]string{"-p", "work"}, args...) }
	bigLog := fmt.Sprintf("mkdir -p logs && head -c %d /dev/zero > logs/container-boot.log && ", 256<<10)
	return []linkCase{
		{name: "state file, the runner", plant: `ln -s "$T" gateway_state.json`, steps: []step{
			// The state is best effort: the gateway runs, the warning says why.
			run("gateway", "run", "--", runTrue).exits(0, "could not record the gateway state"), run("gateway", "run", "--", runTrue).exits(0, refused)}},
		{name: "state file, reconcile", plant: `ln -s "$T" gateway_state.json`, test: true, steps: []step{
			run("gateway", "reconcile").exits(0, "the default profile's recorded intent cannot be read, so it counts as none: refusing to use")}},
		{name: "state file of a named profile", plant: `mkdir -p profiles/work && ln -s "$T" profiles/work/gateway_state.json`, steps: []step{
			run(work("gateway", "run", "--", runTrue)...).exits(0, refused)}},
		{name: "planned-stop marker, mark-stop", plant: `ln -s "$T" .gateway-planned-stop.json`, steps: []step{
			run("gateway", "mark-stop", "--pid", "1").exits(0, "could not mark the stop of PID 1 as planned: refusing to use")}},
		{name: "runner pid record, the runner", plant: `ln -s "$T" .hermes-runner.pid`, steps: []step{
			run("gateway", "run", "--", runTrue).exits(1, "write the pid record: refusing to use")}},
		// A linked record proves nothing: nothing runs, nothing is signalled.
		{name: "runner pid record, stop without a manager", plant: `ln -s "$T" .hermes-runner.pid`, steps: []step{
			run("gateway", "stop").exits(3, "is not a regular file (a symlink), so it proves nothing")}},
		{name: "runner pid record, reconcile", plant: `ln -s "$T" .hermes-runner.pid`, test: true, steps: []step{
			run("gateway", "reconcile").exits(0, "profile=default")}},
		{name: "runner lock, the runner", plant: `ln -s "$T" .hermes-runner.lock`, steps: []step{
			run("gateway", "run", "--", runTrue).exits(1, refused)}},
		{name: "runner lock beside a stale pid record, reconcile",
			plant: `printf '{"pid": 999999999}' > .hermes-runner.pid && ln -s "$T" .hermes-runner.lock`, test: true,
			steps: []step{run("gateway", "reconcile").exits(0, "profile=default")},
			check: func(h *home) {
				if _, err := os.Stat(h.path(gateway.RunnerPIDFile)); err == nil {
					h.t.Error("the stale pid record was kept")
				}
			}},
		{name: "upstream's pid record, stop without a manager", plant: `ln -s "$T" gateway.pid`, steps: []step{
			run("gateway", "stop").exits(3, "is not a regular file (a symlink), so it proves nothing")}},
		{name: "registration settings, register", plant: `ln -s "$T" .hermes-registration.json`, test: true, steps: []step{
			run("gateway", "register", "--no-start").exits(1, "record the registration: refusing to use")}},
		{name: "registration settings, reconcile", plant: `ln -s "$T" .hermes-registration.json`, test: true, steps: []step{
			run("gateway", "reconcile").exits(1, "the registration settings: refusing to use")}},
		{name: "logs folder, reconcile", plant: `ln -s "$T" logs`, test: true, steps: []step{
			run("gateway", "reconcile").exits(1, "audit log: refusing to use")}},
		{name: "audit log, reconcile", plant: `mkdir logs && ln -s "$T" logs/container-boot.log`, test: true, steps: []step{
			run("gateway", "reconcile").exits(1, "audit log: refusing to use"), run("gateway", "reconcile").exits(1, rmHint)}},
		// The attack: a newline in the recorded intent, and the
		// audit log linked to a root-only file.
		{name: "audit log with a newline in the recorded intent",
			plant: `printf '{"desired_state":"running\nroot::0:0::/:/bin/sh"}' > gateway_state.json && mkdir logs && ln -s "$T" logs/container-boot.log`,
			test:  true, steps: []step{run("gateway", "reconcile").exits(1, "audit log: refusing to use")}},
		{name: "rotated audit log", plant: bigLog + `ln -s "$T" logs/container-boot.log.1`, test: true,
			steps: []step{run("gateway", "reconcile").exits(0, "profile=default")},
			check: func(h *home) {
				info, err := os.Lstat(h.path("logs", "container-boot.log.1"))
				if err != nil || !info.Mode().IsRegular() || info.Size() != 256<<10 {
					h.t.Errorf("the log was not rotated over the link: %v %v", info, err)
				}
			}},
		{name: "profile folder", plant: `mkdir profiles && ln -s "$T" profiles/work`, test: true, steps: []step{
			run(work("gateway", "register", "--no-start")...).exits(1, refused),
			run(work("gateway", "mark-stop", "--pid", "1")...).exits(0, "could not mark the stop"),
			run("gateway", "reconcile").exits(0, "skipping "),
		}},
		{name: "profile folder, the runner", plant: `mkdir profiles && ln -s "$T" profiles/work`, steps: []step{
			run(work("gateway", "run", "--", runTrue)...).exits(1, refused)}},
		{name: "profiles folder", plant: `ln -s "$T" profiles`, test: true, steps: []step{
			run(work("gateway", "register", "--no-start")...).exits(1, refused),
			run("gateway", "reconcile").exits(0, "skipping every named profile"),
		}},
		{name: "private tree folder, supervise", plant: `ln -s "$T" run`, steps: []step{
			run("gateway", "supervise").exits(1, "refusing to run a private supervision tree as root")}},
	}
}

// TestPlantedSymlinks runs every link case twice: the link at a root-only
// file, and at a root-owned folder.
func TestPlantedSymlinks(t *testing.T) {
	for _, c := range linkCases() {
		for _, to := range []string{"file", "folder"} {
			t.Run(c.name+" -> "+to, func(t *testing.T) {
				h := newHome(t)
				o := h.fixture()
				target := o.file
				if to == "folder" {
					target = o.folder
				}
				h.plant(strings.ReplaceAll(c.plant, "$T", target))
				var env []string
				if c.test {
					env = testBackend(t)
				}
				for _, s := range c.steps {
					h.expect(env, s)
				}
				if c.check != nil {
					c.check(h)
				}
				h.unchanged(o)
				h.ownedByUser()
			})
		}
	}
}

// TestPlantedHomeLink: $HERMES_HOME itself a link the service user made
// (in a folder of theirs) is refused, not followed.
func TestPlantedHomeLink(t *testing.T) {
	for _, to := range []string{"file", "folder"} {
		t.Run("home -> "+to, func(t *testing.T) {
			h := newHome(t)
			o := h.fixture()
			target := o.file
			if to == "folder" {
				target = o.folder
			}
			h.plant(`ln -s "` + target + `" link`)
			env := append(testBackend(t), "HERMES_HOME="+h.path("link"))
			h.expect(env, run("gateway", "register", "--no-start").exits(1, "refusing to use "+h.path("link")+": it is a symbolic link"))
			h.expect(env, run("gateway", "reconcile").exits(1, "it is a symbolic link"))
			h.unchanged(o)
			h.ownedByUser()
		})
	}
}

// userRunner starts `hermes gateway run` as the service user, its gateway a
// sleep, and waits for its pid record.
func (h *home) userRunner() *exec.Cmd {
	h.t.Helper()
	cmd := asUser(exec.Command(bins.hermes, "gateway", "run", "--", "/bin/sleep", "60"))
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + h.root, "HERMES_HOME=" + h.root}
	if err := cmd.Start(); err != nil {
		h.t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	h.t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	err := wait.For(context.Background(), "the user's runner to write its pid record", 10*time.Second, func() bool {
		rec, _ := gateway.Runner.ReadPIDRecord(h.root)
		return rec != nil && rec.PID == cmd.Process.Pid
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return cmd
}

// TestPlantedSymlinksBesideALiveRunner: the markers root writes for a
// runner that runs (a takeover's, a foreground stop's) are linked away;
// root's commands still do their job, through no link.
func TestPlantedSymlinksBesideALiveRunner(t *testing.T) {
	for _, c := range []struct {
		name, file string
		step       step
	}{
		{"takeover marker, run --replace", gateway.RunnerTakeoverFile,
			run("gateway", "run", "--replace", "--", runTrue).exits(0, "could not mark the takeover")},
		{"planned-stop marker, stop without a manager", gateway.PlannedStopFile,
			run("gateway", "stop").exits(0, "could not write the planned-stop marker")},
	} {
		for _, to := range []string{"file", "folder"} {
			t.Run(c.name+" -> "+to, func(t *testing.T) {
				h := newHome(t)
				o := h.fixture()
				target := o.file
				if to == "folder" {
					target = o.folder
				}
				runner := h.userRunner()
				h.plant(`ln -s "` + target + `" ` + c.file)
				h.expect(nil, c.step)
				if err := wait.For(context.Background(), "the user's runner to end", 15*time.Second, func() bool {
					return !gateway.Alive(runner.Process.Pid)
				}); err != nil {
					t.Error(err)
				}
				h.unchanged(o)
				h.ownedByUser()
			})
		}
	}
}

// hermesRSS is hermes run as root, with its peak resident memory in MiB.
func (h *home) hermesRSS(env []string, args ...string) (result, int64) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := h.command(ctx, env, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		h.t.Fatalf("hermes %q: %v", args, err)
	}
	rss := int64(0)
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = ru.Maxrss >> 10 // KiB on Linux
	}
	return result{out.String(), errOut.String(), code}, rss
}

// TestOversizedFiles: 200 MB (sparse) files where hermes's own should be
// are refused from their size with a clear error, in bounded memory. Before
// the cap, a reconcile read a 200 MB state file whole: 217 MB peak for a
// sparse one, 1.4 GB (7 s) for one holding a 200 MB JSON string.
func TestOversizedFiles(t *testing.T) {
	const tooLarge = "it is 200 MiB, more than the 1 MiB hermes reads of it"
	for _, c := range []struct {
		name, file string
		test       bool
		step       step
		check      func(h *home)
	}{
		{name: "state file, reconcile", file: gateway.StateFile, test: true, step: run("gateway", "reconcile").exits(0, tooLarge)},
		{name: "state file, the runner", file: gateway.StateFile, step: run("gateway", "run", "--", runTrue).exits(0, tooLarge),
			check: func(h *home) {
				if info, _ := os.Stat(h.path(gateway.StateFile)); info == nil || info.Size() != 200<<20 {
					h.t.Error("the oversized state was rewritten")
				}
			}},
		{name: "runner pid record, stop", file: gateway.RunnerPIDFile, step: run("gateway", "stop").exits(1, tooLarge)},
		{name: "upstream pid record, stop", file: gateway.PIDFile, step: run("gateway", "stop").exits(1, tooLarge)},
		{name: "registration settings, reconcile", file: ".hermes-registration.json", test: true,
			step: run("gateway", "reconcile").exits(1, tooLarge)},
		{name: "planned-stop marker, mark-stop", file: gateway.PlannedStopFile, step: run("gateway", "mark-stop", "--pid", "1").exits(0, ""),
			check: func(h *home) {
				if info, _ := os.Stat(h.path(gateway.PlannedStopFile)); info == nil || info.Size() > 1<<10 {
					h.t.Error("the marker was not replaced")
				}
			}},
		{name: "private tree pid file, status", file: "run/s6-svscan.pid", test: true, step: run("gateway", "status").exits(3, "")},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHome(t)
			h.plant(fmt.Sprintf("mkdir -p %s && truncate -s 200M %s", filepath.Dir(c.file), c.file))
			var env []string
			if c.test {
				env = testBackend(t)
			}
			start := time.Now()
			r, rss := h.hermesRSS(env, c.step.args...)
			took := time.Since(start)
			if r.code != c.step.code || !strings.Contains(r.stdout+r.stderr, c.step.say) {
				t.Errorf("hermes %s: want exit %d saying %q, got %s", strings.Join(c.step.args, " "), c.step.code, c.step.say, r)
			}
			// A race-enabled hermes idles at ~15-40 MiB; reading the file
			// would take 200 MiB more.
			if rss > 120 {
				t.Errorf("hermes peaked at %d MiB", rss)
			}
			t.Logf("hermes %s: exit %d, peak %d MiB, %v", strings.Join(c.step.args, " "), r.code, rss, took)
			if c.check != nil {
				c.check(h)
			}
			h.ownedByUser()
		})
	}
}

// TestSweepAfterEveryCommand is issue 15's "done when": a home the service
// user owns, after register (or install), start, stop, restart, reconcile,
// status and mark-stop run as root, holds nothing that user does not own,
// on every backend that runs here.
func TestSweepAfterEveryCommand(t *testing.T) {
	t.Run("test backend", func(t *testing.T) {
		h := newHome(t)
		env := testBackend(t)
		h.plant("mkdir -p profiles/work && touch profiles/work/SOUL.md")
		for _, p := range []string{"default", "work"} {
			for _, s := range []step{
				run("-p", p, "gateway", "register"), run("-p", p, "gateway", "stop"), run("-p", p, "gateway", "start"),
				run("-p", p, "gateway", "restart"), run("-p", p, "gateway", "status"), run("-p", p, "gateway", "mark-stop", "--pid", "1"),
				run("-p", p, "gateway", "run", "--", runTrue),
			} {
				h.expect(env, s)
			}
		}
		h.expect(env, run("gateway", "reconcile"))
		h.expect(env, run("gateway", "status", "--all"))
		h.ownedByUser()
	})

	t.Run("s6, a private s6-svscan run by root", func(t *testing.T) {
		h := newHome(t)
		scandir := h.s6Tree()
		env := []string{"HERMES_SERVICE_BACKEND=s6", "HERMES_PLUGIN_PATH=" + bins.dir, "HERMES_S6_SCANDIR=" + scandir,
			"HERMES_S6_USER=" + svc.name}
		for _, p := range []string{"default", "work"} {
			h.expect(env, run("-p", p, "gateway", "register", "--protocol", "plain", "--gateway-command", bins.testGateway).
				exits(0, "registered the "+p+" gateway"))
		}
		h.plant("touch profiles/work/SOUL.md")
		for _, s := range []step{
			run("gateway", "status").exits(0, "running"), run("gateway", "stop").exits(0, "stopped the default gateway"),
			run("gateway", "start").exits(0, "running"), run("gateway", "restart").exits(0, "restarted"),
			run("-p", "work", "gateway", "stop").exits(0, "stopped"), run("gateway", "reconcile").exits(0, "profile=work"),
			run("gateway", "status", "--all").exits(0, "work"), run("gateway", "mark-stop", "--pid", "1"),
		} {
			h.expect(env, s)
		}
		h.ownedByUser()
	})

	t.Run("systemd, a fake systemctl", func(t *testing.T) {
		h := newHome(t)
		env := h.fakeTools("systemctl", "loginctl", "journalctl")
		env = append(env, "HERMES_SERVICE_BACKEND=systemd", "HERMES_SYSTEMD_SYSTEM_DIR="+filepath.Join(t.TempDir(), "system"),
			"HERMES_SYSTEMD_LINGER_DIR="+t.TempDir(), "HERMES_UPSTREAM_CLI=sh")
		for _, p := range []string{"default", "work"} {
			for _, s := range []step{
				run("-p", p, "gateway", "install", "--run-as-user", svc.name).exits(0, "installed the "+p+" gateway"),
				run("-p", p, "gateway", "stop", "--no-wait"), run("-p", p, "gateway", "start", "--no-wait"),
				run("-p", p, "gateway", "restart", "--no-wait"), run("-p", p, "gateway", "status"),
				run("-p", p, "gateway", "mark-stop", "--pid", "77"),
			} {
				h.expect(env, s)
			}
		}
		// systemd keeps its own units: reconcile is s6's, refused here.
		h.expect(env, run("gateway", "reconcile").exits(1, ""))
		h.ownedByUser()
	})

	t.Run("launchd, a fake launchctl", func(t *testing.T) {
		h := newHome(t)
		env := h.fakeTools("launchctl")
		env = append(env, "HERMES_SERVICE_BACKEND=launchd", "HERMES_LAUNCHD_DAEMONS_DIR="+filepath.Join(t.TempDir(), "daemons"),
			"HERMES_UPSTREAM_CLI=sh")
		for _, p := range []string{"default", "work"} {
			for _, s := range []step{
				run("-p", p, "gateway", "install", "--run-as-user", svc.name).exits(0, "installed the "+p+" gateway"),
				run("-p", p, "gateway", "stop", "--no-wait"), run("-p", p, "gateway", "start", "--no-wait"),
				run("-p", p, "gateway", "restart", "--no-wait"), run("-p", p, "gateway", "status"),
			} {
				h.expect(env, s)
			}
		}
		h.expect(env, run("gateway", "reconcile").exits(1, ""))
		h.ownedByUser()
	})
}

// fakeTools puts fake init-system tools first on PATH, answering every
// call as a running service (pid 77) would; the environment to run hermes
// with.
func (h *home) fakeTools(names ...string) []string {
	h.t.Helper()
	dir := h.t.TempDir()
	tools, err := fakecmd.Install(dir, names...)
	if err != nil {
		h.t.Fatal(err)
	}
	answers := map[string]string{
		"systemctl": unitShow("hermes-gateway.service") + "\n" + unitShow("hermes-gateway-work.service"),
		"launchctl": "ai.hermes.gateway = {\n\tstate = running\n\tpid = 77\n}\n",
	}
	var replies []fakecmd.Reply
	for _, n := range names {
		replies = append(replies, fakecmd.Reply{Argv: []string{n, "**"}, Stdout: answers[n]})
	}
	if err := tools.Set(replies...); err != nil {
		h.t.Fatal(err)
	}
	return tools.Env()
}

// unitShow is systemctl show's answer for a running unit.
func unitShow(unit string) string {
	return "Id=" + unit + "\nMainPID=77\nExecMainStatus=0\nNRestarts=0\nLoadState=loaded\nActiveState=active\n" +
		"SubState=running\nUnitFileState=enabled\n"
}

// s6Tree starts s6-svscan as root on a fresh scandir beside the home (its
// run scripts drop to the service user) and ends it, with every gateway,
// when the test ends.
func (h *home) s6Tree() string {
	h.t.Helper()
	scandir := filepath.Join(filepath.Dir(h.root), "service")
	if err := os.Mkdir(scandir, 0o755); err != nil {
		h.t.Fatal(err)
	}
	svscan := exec.Command("s6-svscan", scandir)
	svscan.Env = []string{"PATH=" + os.Getenv("PATH")}
	svscan.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var out bytes.Buffer
	svscan.Stdout, svscan.Stderr = &out, &out
	if err := svscan.Start(); err != nil {
		h.t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = svscan.Wait(); close(done) }()
	h.t.Cleanup(func() {
		_ = exec.Command("s6-svscanctl", "-t", scandir).Run()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = syscall.Kill(-svscan.Process.Pid, syscall.SIGKILL)
			<-done
		}
		// Supervisors and gateways end on their own after s6-svscan; any
		// still there later is killed, so none outlives the test.
		if wait.For(context.Background(), "the tree's processes to end", 20*time.Second, func() bool { return len(under(scandir)) == 0 }) != nil {
			for _, pid := range under(scandir) {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
	err := wait.For(context.Background(), "s6-svscan to listen", 10*time.Second, func() bool {
		_, err := os.Stat(filepath.Join(scandir, ".s6-svscan", "control"))
		return err == nil
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return scandir
}

// under lists the live processes working in dir (their cwd below it): a
// tree's supervisors and the services they run.
func under(dir string) []int {
	var out []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cwd, err := os.Readlink(filepath.Join("/proc", e.Name(), "cwd"))
		if err != nil || (cwd != dir && !strings.HasPrefix(cwd, dir+"/")) {
			continue
		}
		if stat, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "stat")); bytes.Contains(stat, []byte(") Z ")) {
			continue
		}
		out = append(out, pid)
	}
	return out
}
