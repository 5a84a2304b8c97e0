//go:build linux

package faultsuite

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nousresearch/hermes-service/internal/registration"
	"github.com/nousresearch/hermes-service/internal/testbin"
	"github.com/nousresearch/hermes-service/internal/wait"
	"github.com/nousresearch/hermes-service/shared/gateway"
)

// Issue 15, the rest of it: a stop without a service manager signals only
// a process proven to be the profile's gateway; --env is refused, before
// anything is written, when it is not what it claims; hermes doctor names
// every wrong owner, mode and link with the command that fixes it. Every
// name here starts with misc: the suite's files share one package.

// miscNewHome is newHome made reachable for the service user: the folder
// testing makes for the test's temporary folders is 0700, root's, and the
// home sits below it. (The first TempDir makes it; newHome's takes the
// next name in it.)
func miscNewHome(t *testing.T) *home {
	t.Helper()
	if err := os.Chmod(filepath.Dir(t.TempDir()), 0o755); err != nil {
		t.Fatal(err)
	}
	return newHome(t)
}

// miscVictim starts a process the home's owner has nothing to do with (a
// root `sleep`) and returns its pid and start time; it is ended with the
// test.
func miscVictim(t *testing.T) (int, int64) {
	t.Helper()
	cmd := exec.Command("sleep", "300")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	st := gateway.StartTime(cmd.Process.Pid)
	if st == nil {
		t.Fatal("no start time on Linux")
	}
	return cmd.Process.Pid, *st
}

// miscTree is every entry of the home: its kind, mode, owner and content,
// links not followed, so that a run that writes, removes or chmods anything
// in it shows.
func miscTree(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		info, err := os.Lstat(p)
		if err != nil {
			return nil
		}
		st := info.Sys().(*syscall.Stat_t)
		v := fmt.Sprintf("%v uid %d", info.Mode(), st.Uid)
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			v += " -> " + target
		case info.Mode().IsRegular():
			data, _ := os.ReadFile(p)
			v += " " + string(data)
		}
		out[p] = v
		return nil
	})
	return out
}

// miscSame fails when the home changed from before.
func miscSame(t *testing.T, before, after map[string]string) {
	t.Helper()
	if !maps.Equal(before, after) {
		for p, v := range after {
			if before[p] != v {
				t.Errorf("changed: %s: %q, was %q", p, v, before[p])
			}
		}
		for p := range before {
			if _, ok := after[p]; !ok {
				t.Errorf("removed: %s", p)
			}
		}
	}
}

// miscRecord is a pid record as the runner writes one.
func miscRecord(pid int, start *int64, home string) string {
	st := "null"
	if start != nil {
		st = fmt.Sprint(*start)
	}
	return fmt.Sprintf(`{"pid": %d, "kind": "hermes-gateway", "argv": ["hermes", "gateway", "run"], "start_time": %s, "hermes_home": %q}`, pid, st, home)
}

// TestMiscStopNeedsProof: stale or forged pid records naming a live process
// the home's owner does not own (a root sleep), under either claim: `hermes
// gateway stop` without a service manager must not signal it, must say
// nothing runs and exit 3, and must leave the home as it was.
func TestMiscStopNeedsProof(t *testing.T) {
	wrong := int64(12345)
	tests := []struct {
		name    string
		profile string
		claim   gateway.Claim
		// plant sets up the profile folder dir as the home's owner, for the
		// victim pid started at start; it may start what it needs.
		plant func(t *testing.T, h *home, dir string, pid int, start int64)
		want  string
	}{
		{name: "gateway.pid, a bare pid", claim: gateway.Upstream,
			plant: func(t *testing.T, h *home, dir string, pid int, _ int64) {
				h.plant(fmt.Sprintf("echo %d > %s", pid, miscIn(h, dir, gateway.PIDFile)))
			}, want: "records no start time"},
		{name: ".hermes-runner.pid, a bare pid", profile: "work", claim: gateway.Runner,
			plant: func(t *testing.T, h *home, dir string, pid int, _ int64) {
				h.plant(fmt.Sprintf("echo %d > %s", pid, miscIn(h, dir, gateway.RunnerPIDFile)))
			}, want: "records no start time"},
		{name: "gateway.pid, JSON without start_time", profile: "work", claim: gateway.Upstream,
			plant: func(t *testing.T, h *home, dir string, pid int, _ int64) {
				miscPlantFile(h, dir, gateway.PIDFile, miscRecord(pid, nil, dir))
			}, want: "records no start time"},
		{name: ".hermes-runner.pid, JSON without start_time", claim: gateway.Runner,
			plant: func(t *testing.T, h *home, dir string, pid int, _ int64) {
				miscPlantFile(h, dir, gateway.RunnerPIDFile, fmt.Sprintf(`{"pid": %d, "hermes_home": %q}`, pid, dir))
			}, want: "records no start time"},
		{name: "gateway.pid, JSON with a wrong start_time", claim: gateway.Upstream,
			plant: func(t *testing.T, h *home, dir string, pid int, _ int64) {
				miscPlantFile(h, dir, gateway.PIDFile, miscRecord(pid, &wrong, dir))
			}, want: "now belongs to another process"},
		{name: ".hermes-runner.pid, JSON with a wrong start_time", profile: "work", claim: gateway.Runner,
			plant: func(t *testing.T, h *home, dir string, pid int, _ int64) {
				miscPlantFile(h, dir, gateway.RunnerPIDFile, miscRecord(pid, &wrong, dir))
			}, want: "now belongs to another process"},
		{name: "gateway.pid right, no lock file", claim: gateway.Upstream,
			plant: func(t *testing.T, h *home, dir string, pid int, start int64) {
				miscPlantFile(h, dir, gateway.PIDFile, miscRecord(pid, &start, dir))
			}, want: "there is no gateway.lock"},
		{name: ".hermes-runner.pid right, lock not held", profile: "work", claim: gateway.Runner,
			plant: func(t *testing.T, h *home, dir string, pid int, start int64) {
				miscPlantFile(h, dir, gateway.RunnerPIDFile, miscRecord(pid, &start, dir))
				miscPlantFile(h, dir, gateway.RunnerLockFile, "")
			}, want: "no process holds .hermes-runner.lock"},
		{name: "gateway.pid right, lock held by the owner's own process", claim: gateway.Upstream,
			plant: func(t *testing.T, h *home, dir string, pid int, start int64) {
				miscPlantFile(h, dir, gateway.PIDFile, miscRecord(pid, &start, dir))
				miscHoldLock(t, h, dir, gateway.Upstream)
			}, want: "does not hold gateway.lock open"},
		{name: ".hermes-runner.pid right, lock held by the owner's own process", profile: "work", claim: gateway.Runner,
			plant: func(t *testing.T, h *home, dir string, pid int, start int64) {
				miscPlantFile(h, dir, gateway.RunnerPIDFile, miscRecord(pid, &start, dir))
				miscHoldLock(t, h, dir, gateway.Runner)
			}, want: "does not hold .hermes-runner.lock open"},
		{name: "gateway.pid right, but a symlink to a record outside", claim: gateway.Upstream,
			plant: func(t *testing.T, h *home, dir string, pid int, start int64) {
				rec := h.victim("record.pid", miscRecord(pid, &start, dir))
				h.plant(fmt.Sprintf("ln -s %s %s", rec, miscIn(h, dir, gateway.PIDFile)))
				miscHoldLock(t, h, dir, gateway.Upstream)
			}, want: "gateway.pid is not a regular file (a symlink)"},
		{name: ".hermes-runner.pid is a named pipe", profile: "work", claim: gateway.Runner,
			plant: func(t *testing.T, h *home, dir string, _ int, _ int64) {
				h.plant("mkfifo " + miscIn(h, dir, gateway.RunnerPIDFile))
			}, want: ".hermes-runner.pid is not a regular file (a named pipe)"},
		{name: "a record of another home", claim: gateway.Upstream,
			plant: func(t *testing.T, h *home, dir string, pid int, start int64) {
				miscPlantFile(h, dir, gateway.PIDFile, miscRecord(pid, &start, h.outside))
				miscHoldLock(t, h, dir, gateway.Upstream)
			}, want: "belongs to the home "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := miscNewHome(t)
			dir := h.root
			args := []string{"gateway", "stop"}
			if tt.profile != "" {
				dir = h.path("profiles", tt.profile)
				h.plant("mkdir -p profiles/" + tt.profile)
				args = append([]string{"-p", tt.profile}, args...)
			}
			victims := map[string]string{}
			pid, start := miscVictim(t)
			tt.plant(t, h, dir, pid, start)
			for _, e := range miscOutside(h) {
				data, _ := os.ReadFile(e)
				victims[e] = string(data)
			}
			before := miscTree(t, h.root)
			r := h.hermes(nil, args...)
			if r.code != 3 {
				t.Errorf("exit %d, want 3 (not running)\n%s", r.code, r)
			}
			if !strings.Contains(r.stdout, "gateway is not running") || !strings.Contains(r.stdout, tt.want) ||
				!strings.Contains(r.stdout, "nothing was signalled") {
				t.Errorf("want \"not running\" and %q\n%s", tt.want, r)
			}
			time.Sleep(100 * time.Millisecond) // a signal sent would have landed by now
			if !gateway.SameProcess(pid, &start) {
				t.Fatalf("the unrelated process %d was signalled\n%s", pid, r)
			}
			miscSame(t, before, miscTree(t, h.root))
			h.ownedByUser()
			h.untouched(victims)
		})
	}
}

// TestMiscStopProvenRunner: the proof is not out of reach. A runner the
// home's owner started by hand is stopped by root's `hermes gateway stop`
// as the operator's stop: marked, SIGTERMed, waited for, its intent
// "stopped", and nothing of root's left in the home.
func TestMiscStopProvenRunner(t *testing.T) {
	t.Run("a runner the home's owner started by hand", miscStopProvenRunner)
}

func miscStopProvenRunner(t *testing.T) {
	h := miscNewHome(t)
	runner := asUser(exec.Command(bins.hermes, "gateway", "run", "--", bins.testGateway))
	runner.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + h.root, "HERMES_HOME=" + h.root}
	if err := runner.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- runner.Wait() }()
	t.Cleanup(func() { _ = runner.Process.Kill(); <-done })
	if err := wait.For(context.Background(), "the runner's state", 10*time.Second, func() bool {
		st, _ := gateway.ReadState(h.root)
		return st.GatewayState() == gateway.GatewayRunning
	}); err != nil {
		t.Fatal(err)
	}
	r := h.hermes(nil, "gateway", "stop")
	if r.code != 0 || !strings.Contains(r.stdout, fmt.Sprintf("stopped the default gateway (PID %d)", runner.Process.Pid)) {
		t.Fatalf("want the runner stopped\n%s", r)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the runner did not exit")
	}
	done <- nil // for the cleanup
	st, _ := gateway.ReadState(h.root)
	if st.DesiredState() != "stopped" {
		t.Errorf("desired_state %q, want stopped (the operator's stop)", st.DesiredState())
	}
	if _, err := os.Lstat(h.path(gateway.PlannedStopFile)); !os.IsNotExist(err) {
		t.Errorf("the planned-stop marker is still there: %v", err)
	}
	h.ownedByUser()
}

// miscIn is the path of name in dir, relative to the home (plant runs in
// it).
func miscIn(h *home, dir, name string) string {
	rel, _ := filepath.Rel(h.root, filepath.Join(dir, name))
	return rel
}

// miscPlantFile writes content to dir/name as the home's owner.
func miscPlantFile(h *home, dir, name, content string) {
	h.t.Helper()
	h.plant(fmt.Sprintf("printf '%%s' %s > %s", miscQuote(content), miscIn(h, dir, name)))
}

func miscQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// miscHoldLock has a process of the home's owner hold the claim's lock in
// dir until the test ends.
func miscHoldLock(t *testing.T, h *home, dir string, c gateway.Claim) {
	t.Helper()
	cmd := asUser(exec.Command("flock", filepath.Join(dir, c.LockFile), "sleep", "300"))
	cmd.SysProcAttr.Setpgid = true // flock runs sleep as its child: end both
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); _ = cmd.Wait() })
	if err := wait.For(context.Background(), "flock to hold "+c.LockFile, 5*time.Second, func() bool {
		held, _ := c.LockHeld(dir)
		return held
	}); err != nil {
		t.Fatal(err)
	}
}

// miscOutside lists the files in the root-owned folder beside the home.
func miscOutside(h *home) []string {
	entries, _ := os.ReadDir(h.outside)
	var out []string
	for _, e := range entries {
		out = append(out, filepath.Join(h.outside, e.Name()))
	}
	return out
}

// miscBackends are the three places a refused --env must not reach: the
// test backend's state, an s6 scandir and a systemd unit folder, each
// private to the test.
type miscBackends struct {
	plugins, state, scandir, units string
}

func miscNewBackends(t *testing.T) miscBackends {
	t.Helper()
	b := miscBackends{plugins: miscTrustedDir(t), state: t.TempDir(), scandir: t.TempDir(), units: t.TempDir()}
	for _, d := range []string{b.plugins, b.state, b.scandir, b.units} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, bin := range []string{bins.testPlugin, bins.s6, bins.systemd} {
		data, err := os.ReadFile(bin)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(b.plugins, filepath.Base(bin)), data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

// env is hermes's environment for a backend.
func (b miscBackends) env(kind string) []string {
	return []string{"HERMES_PLUGIN_PATH=" + b.plugins, "HERMES_SERVICE_BACKEND=" + kind, "HERMES_TESTBACKEND_DIR=" + b.state,
		"HERMES_S6_SCANDIR=" + b.scandir, "HERMES_S6_USER=" + ServiceUser, "HERMES_SYSTEMD_SYSTEM_DIR=" + b.units}
}

// empty fails unless no backend holds anything.
func (b miscBackends) empty(t *testing.T) {
	t.Helper()
	for _, d := range []string{b.state, b.scandir, b.units} {
		if entries, _ := os.ReadDir(d); len(entries) > 0 {
			t.Errorf("%s holds %v after a refused --env", d, entries)
		}
	}
}

// TestMiscEnvRefused: --env that is not what it claims is a usage error
// (exit 2) for install and register on every backend, and nothing is
// written: no registration in the home, no test backend state, no s6 slot,
// no systemd unit. A NUL cannot be given on a command line at all (the
// kernel ends an argument at it); host/env_test.go refuses it in
// parseEnv.
func TestMiscEnvRefused(t *testing.T) {
	tests := []struct {
		name string
		env  []string
		want string
	}{
		{"a newline in the key", []string{"A\nB=x"}, `invalid env "A\nB": keys must match`},
		{"a control character in the key", []string{"A\x1b[2JB=x"}, `invalid env "A\x1b[2JB": keys must match`},
		{"a carriage return ending the key", []string{"A\r=x"}, `invalid env "A\r": keys must match`},
		{"invalid UTF-8 in the value", []string{"A=caf\xe9"}, `invalid env "A": the value is not valid UTF-8 (byte 3)`},
		{"a lone continuation byte", []string{"A=\x80 ok"}, `the value is not valid UTF-8 (byte 0)`},
		{"a key given twice", []string{"A=1", "B=2", "A=1"}, "--env A is given twice"},
		{"a key given twice, two values", []string{"A=1", "A=2"}, "--env A is given twice"},
		{"HERMES_HOME", []string{"HERMES_HOME=" + "/root"}, "hint: the service sets it to the profile's folder: choose the home with --home"},
		{"HERMES_GATEWAY_COMMAND", []string{"HERMES_GATEWAY_COMMAND=/bin/sh -c id"}, "hint: give the gateway program with --gateway-command"},
		{"HERMES_SUPERVISED_CHILD", []string{"HERMES_SUPERVISED_CHILD=0"}, "hermes sets HERMES_SUPERVISED_CHILD for the gateway itself"},
		{"HERMES_S6_SUPERVISED_CHILD", []string{"HERMES_S6_SUPERVISED_CHILD=0"}, "hermes sets HERMES_S6_SUPERVISED_CHILD for the gateway itself"},
		{"HERMES_GATEWAY_EXTERNAL_SUPERVISOR", []string{"HERMES_GATEWAY_EXTERNAL_SUPERVISOR=0"}, "hermes sets HERMES_GATEWAY_EXTERNAL_SUPERVISOR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := miscNewHome(t)
			b := miscNewBackends(t)
			before := miscTree(t, h.root)
			for _, run := range []struct{ kind, verb string }{
				{"test", "register"}, {"test", "install"}, {"s6", "register"}, {"systemd", "install"},
			} {
				args := []string{"-p", "work", "gateway", run.verb, "--gateway-command", bins.testGateway}
				for _, kv := range tt.env {
					args = append(args, "--env", kv)
				}
				r := h.hermes(b.env(run.kind), args...)
				if r.code != 2 || !strings.Contains(r.stderr, tt.want) {
					t.Errorf("%s on %s: want exit 2 and %q\n%s", run.verb, run.kind, tt.want, r)
				}
			}
			b.empty(t)
			miscSame(t, before, miscTree(t, h.root))
			if _, err := os.Lstat(h.path("profiles", "work", registration.File)); !os.IsNotExist(err) {
				t.Errorf("a registration was written: %v", err)
			}
			h.ownedByUser()
			h.untouched(nil)
		})
	}
}

// TestMiscEnvBytesKept: values that hold what urfave/cli used to trim
// (trailing spaces, tabs, newlines) and control characters reach the
// backend over gRPC, and the registration file, byte for byte.
func TestMiscEnvBytesKept(t *testing.T) {
	t.Run("spaces, tabs, newlines and control characters at either end", miscEnvBytesKept)
}

func miscEnvBytesKept(t *testing.T) {
	h := miscNewHome(t)
	b := miscNewBackends(t)
	want := map[string]string{"TRAIL": "secret  ", "TABS": "\tx\t", "LINES": "one\ntwo\n", "CTRL": "\r\x1b[0m\x7f", "EQ": "a=b", "EMPTY": ""}
	args := []string{"-p", "work", "gateway", "register", "--no-start", "--gateway-command", bins.testGateway}
	for k, v := range want {
		args = append(args, "--env", k+"="+v)
	}
	if r := h.hermes(b.env("test"), args...); r.code != 0 {
		t.Fatalf("register\n%s", r)
	}
	raw, err := os.ReadFile(filepath.Join(b.state, "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	var state map[string]struct {
		Env map[string]string `json:"env"`
	}
	if err := json.Unmarshal(raw, &state); err != nil {
		t.Fatal(err)
	}
	if got := state["work"].Env; !maps.Equal(got, want) {
		t.Errorf("the backend got %q, want %q", got, want)
	}
	set, ok, err := registration.Load(h.path("profiles", "work"))
	if err != nil || !ok || !maps.Equal(set.Env, want) {
		t.Errorf("the registration holds %q (%v %v), want %q", set.Env, ok, err, want)
	}
}

// miscDoctor runs hermes doctor on the home with the plugin path given, as
// text and as JSON, and returns the text run and the JSON's findings about
// the home and the plugin path given (not the folders beside the hermes
// binary the suite runs, nor the machine's).
func miscDoctor(t *testing.T, h *home, pluginPath string) (result, []miscFinding) {
	t.Helper()
	env := []string{"HERMES_PLUGIN_PATH=" + pluginPath}
	text := h.hermes(env, "gateway", "doctor")
	r := h.hermes(env, "gateway", "doctor", "--json")
	var all, out []miscFinding
	if err := json.Unmarshal([]byte(r.stdout), &all); err != nil {
		t.Fatalf("doctor --json: %v\n%s", err, r)
	}
	for _, f := range all {
		if f.Check == "home files" || f.Check == "plugin path" && (strings.Contains(f.Detail, pluginPath) ||
			strings.Contains(f.Detail, h.root) || !strings.Contains(f.Detail, bins.dir)) {
			out = append(out, f)
		}
	}
	if text.code != r.code {
		t.Errorf("doctor exits %d, doctor --json %d", text.code, r.code)
	}
	return text, out
}

type miscFinding struct {
	Check    string  `json:"check"`
	OK       bool    `json:"ok"`
	Severity string  `json:"severity"`
	Detail   string  `json:"detail"`
	Fix      *string `json:"fix"`
}

// said is a finding that says something is wrong: a problem, or a warning
// (shown with its fix, not counted).
func (f miscFinding) said() bool { return !f.OK || f.Severity == "warning" }

// miscCleanPlugins is a root-owned plugin folder doctor has nothing to say
// about.
func miscCleanPlugins(t *testing.T) string {
	t.Helper()
	dir := miscTrustedDir(t)
	miscRootFile(t, filepath.Join(dir, "hermes-service-clean"), "#!/bin/sh\n", 0o755)
	return dir
}

// miscTrustedDir is a root-owned 0755 folder outside /tmp, which the
// plugin trust checks refuse whatever is in it.
func miscTrustedDir(t *testing.T) string {
	t.Helper()
	dir, err := testbin.TrustedTemp("fault-plugins-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestMiscDoctor: doctor as root on a home the service user owns, each
// case planting one wrong owner, mode or link (or one of the plugin path):
// doctor reports it with the exact command that fixes it, and running that
// command fixes it, while doctor itself changes nothing, reads nothing
// through a link or a pipe, and writes nothing outside.
func TestMiscDoctor(t *testing.T) {
	fault := ServiceUser + ":" + miscGroup()
	tests := []struct {
		name string
		// plant sets the problem up (as the service user, or as root for
		// what only root could have left); it returns the plugin path.
		plant func(t *testing.T, h *home) string
		// detail and fix are regular expressions for the finding.
		detail, fix string
	}{
		{name: "a root-owned state file", plant: func(t *testing.T, h *home) string {
			miscRootFile(t, h.path(gateway.StateFile), "{}", 0o644)
			return miscCleanPlugins(t)
		}, detail: `gateway_state.json is owned by root \(uid 0\), not by the home's owner ` + ServiceUser,
			fix: `^chown ` + fault + ` \S+/home/gateway_state.json$`},
		{name: "a root-owned profile folder", plant: func(t *testing.T, h *home) string {
			h.plant("mkdir -p profiles")
			if err := os.Mkdir(h.path("profiles", "work"), 0o755); err != nil {
				t.Fatal(err)
			}
			return miscCleanPlugins(t)
		}, detail: `profiles/work is owned by root`, fix: `^chown ` + fault + ` \S+/home/profiles/work$`},
		{name: "a world-writable state file", plant: func(t *testing.T, h *home) string {
			h.plant("echo '{}' > gateway_state.json; chmod 666 gateway_state.json")
			return miscCleanPlugins(t)
		}, detail: `gateway_state.json is mode 0666: its group and everyone may write it`, fix: `^chmod go-w \S+/home/gateway_state.json$`},
		{name: "a group-writable profile folder, the owner's own group", plant: func(t *testing.T, h *home) string {
			h.plant("mkdir -p profiles/work; chmod 775 profiles/work")
			return miscCleanPlugins(t)
		}, detail: `profiles/work is mode 0775: its group may write it \(` + miscGroup() + `, the owner's own group`,
			fix: `^chmod g-w \S+/home/profiles/work$`},
		{name: "a group-writable state file, root's group", plant: func(t *testing.T, h *home) string {
			h.plant("echo '{}' > gateway_state.json")
			if err := os.Chown(h.path(gateway.StateFile), svc.uid, 0); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(h.path(gateway.StateFile), 0o664); err != nil {
				t.Fatal(err)
			}
			return miscCleanPlugins(t)
		}, detail: `gateway_state.json is mode 0664: its group may write it$`, fix: `^chmod go-w \S+/home/gateway_state.json$`},
		{name: "a world-writable logs folder", plant: func(t *testing.T, h *home) string {
			h.plant("mkdir -p logs/gateways/default; chmod 777 logs/gateways")
			return miscCleanPlugins(t)
		}, detail: `logs/gateways is mode 0777`, fix: `^chmod go-w \S+/home/logs/gateways$`},
		{name: "a registration others may read", plant: func(t *testing.T, h *home) string {
			h.plant("echo '{}' > .hermes-registration.json; chmod 644 .hermes-registration.json")
			return miscCleanPlugins(t)
		}, detail: `.hermes-registration.json is mode 0644: it may hold --env secrets`, fix: `^chmod 600 \S+/home/.hermes-registration.json$`},
		{name: "gateway.pid a symlink to a root file", plant: func(t *testing.T, h *home) string {
			v := h.victim("shadow", "root:secret\n")
			h.plant("ln -s " + v + " gateway.pid")
			return miscCleanPlugins(t)
		}, detail: `/home/gateway.pid is a symlink \(to \S+/outside/shadow\)`, fix: `^rm \S+/home/gateway.pid$`},
		{name: "the runner's pid record a named pipe", plant: func(t *testing.T, h *home) string {
			h.plant("mkfifo .hermes-runner.pid")
			return miscCleanPlugins(t)
		}, detail: `.hermes-runner.pid is a named pipe, not a regular file`, fix: `^rm \S+/home/.hermes-runner.pid$`},
		{name: "the planned-stop marker a symlink", plant: func(t *testing.T, h *home) string {
			v := h.victim("marker", "x")
			h.plant("mkdir -p profiles/work; ln -s " + v + " profiles/work/.gateway-planned-stop.json")
			return miscCleanPlugins(t)
		}, detail: `work/.gateway-planned-stop.json is a symlink`, fix: `^rm \S+/work/.gateway-planned-stop.json$`},
		{name: "the lock a folder", plant: func(t *testing.T, h *home) string {
			h.plant("mkdir -p .hermes-runner.lock/x")
			return miscCleanPlugins(t)
		}, detail: `.hermes-runner.lock is a folder, not a regular file`, fix: `^rm -r \S+/home/.hermes-runner.lock$`},
		{name: "the registration a symlink", plant: func(t *testing.T, h *home) string {
			v := h.victim("reg", "{}")
			h.plant("ln -s " + v + " .hermes-registration.json")
			return miscCleanPlugins(t)
		}, detail: `.hermes-registration.json is a symlink`, fix: `^rm \S+/home/.hermes-registration.json$`},
		{name: "a profile folder a symlink", plant: func(t *testing.T, h *home) string {
			h.plant("mkdir -p profiles; ln -s $OUTSIDE profiles/evil")
			return miscCleanPlugins(t)
		}, detail: `profiles/evil is a symlink \(to \S+/outside\)`,
			fix: `^rm (\S+/home/profiles/evil) && mkdir (\S+/home/profiles/evil) && chown ` + fault + ` (\S+/home/profiles/evil)$`},
		{name: "logs a symlink", plant: func(t *testing.T, h *home) string {
			h.plant("ln -s $OUTSIDE logs")
			return miscCleanPlugins(t)
		}, detail: `/home/logs is a symlink`, fix: `^rm \S+/home/logs && mkdir \S+/home/logs && chown ` + fault + ` \S+/home/logs$`},
		{name: "container-boot.log a symlink", plant: func(t *testing.T, h *home) string {
			v := h.victim("passwd", "root:x:0:0\n")
			h.plant("mkdir logs; ln -s " + v + " logs/container-boot.log")
			return miscCleanPlugins(t)
		}, detail: `logs/container-boot.log is a symlink`, fix: `^rm \S+/home/logs/container-boot.log$`},
		{name: "a log named to forge a fix line", plant: func(t *testing.T, h *home) string {
			h.plant(`mkdir -p logs/gateways; f="logs/gateways/x$(printf '\n      fix: rm -rf ~\033[2K')"; touch "$f"; chmod 666 "$f"`)
			return miscCleanPlugins(t)
		}, detail: `logs/gateways/x\\n      fix: rm -rf ~\\x1b\[2K" is mode 0666`,
			fix: `^find \S+/home/logs/gateways -xdev -inum \d+ -exec chmod go-w \{\} \+$`},
		{name: "a plugin folder the service user owns", plant: func(t *testing.T, h *home) string {
			dir := miscCleanPlugins(t)
			if err := os.Chown(dir, svc.uid, svc.gid); err != nil {
				t.Fatal(err)
			}
			return dir
		}, detail: `its folder \S+ is owned by ` + ServiceUser, fix: `^chown root \S+$`},
		{name: "a group-writable plugin file", plant: func(t *testing.T, h *home) string {
			dir := miscCleanPlugins(t)
			miscRootFile(t, filepath.Join(dir, "hermes-service-test"), "#!/bin/sh\n", 0o775)
			return dir
		}, detail: `\S+/hermes-service-test: the file is writable by its group`, fix: `^chmod g-w \S+/hermes-service-test$`},
		{name: "a plugin linked to a file the service user owns", plant: func(t *testing.T, h *home) string {
			dir, elsewhere := miscCleanPlugins(t), miscCleanPlugins(t)
			evil := filepath.Join(elsewhere, "evil")
			miscRootFile(t, evil, "#!/bin/sh\n", 0o755)
			if err := os.Chown(evil, svc.uid, svc.gid); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(evil, filepath.Join(dir, "hermes-service-evil")); err != nil {
				t.Fatal(err)
			}
			return dir
		}, detail: `\S+/evil: the file is owned by ` + ServiceUser, fix: `^chown root \S+/evil$`},
		{name: "a world-writable folder above the plugin folder", plant: func(t *testing.T, h *home) string {
			above := miscCleanPlugins(t)
			if err := os.Chmod(above, 0o777); err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(above, "plugins")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			miscRootFile(t, filepath.Join(dir, "hermes-service-clean"), "#!/bin/sh\n", 0o755)
			return dir
		}, detail: `its folder \S+ is world-writable \(owner root, mode 0777\)`, fix: `^chmod go-w \S+$`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := miscNewHome(t)
			pluginPath := tt.plant(t, h)
			victims := map[string]string{}
			for _, e := range miscOutside(h) {
				if info, err := os.Lstat(e); err == nil && info.Mode().IsRegular() {
					data, _ := os.ReadFile(e)
					victims[e] = string(data)
				}
			}
			before := miscTree(t, h.root)
			r, found := miscDoctor(t, h, pluginPath)
			if r.code != 1 {
				t.Errorf("exit %d, want 1 (problems found)\n%s", r.code, r)
			}
			var hit *miscFinding
			for i, f := range found {
				if f.said() && regexp.MustCompile(tt.detail).MatchString(f.Detail) {
					hit = &found[i]
				}
			}
			if hit == nil || hit.Fix == nil || !regexp.MustCompile(tt.fix).MatchString(*hit.Fix) {
				t.Fatalf("no finding %q with the fix %q\n%s", tt.detail, tt.fix, r)
			}
			// Nothing else about the home or the plugin path is wrong.
			for _, f := range found {
				if f.said() && f.Detail != hit.Detail {
					t.Errorf("another finding: %s (fix: %v)", f.Detail, f.Fix)
				}
			}
			if strings.Contains(r.stdout, "\n      fix: rm -rf") || strings.Contains(r.stdout, "\x1b") {
				t.Errorf("a planted name reached the report raw\n%s", r)
			}
			if !strings.Contains(r.stdout, "\n      fix: "+*hit.Fix+"\n") {
				t.Errorf("the text report lacks the fix %q\n%s", *hit.Fix, r)
			}
			miscSame(t, before, miscTree(t, h.root))
			h.untouched(victims)

			// The fix fixes it: doctor then finds nothing about the files.
			if out, err := exec.Command("sh", "-c", *hit.Fix).CombinedOutput(); err != nil {
				t.Fatalf("the fix %q: %v\n%s", *hit.Fix, err, out)
			}
			_, found = miscDoctor(t, h, pluginPath)
			for _, f := range found {
				if f.said() {
					t.Errorf("after the fix %q: %s", *hit.Fix, f.Detail)
				}
			}
			h.untouched(victims)
		})
	}
}

// miscRootFile writes a root-owned file, as an earlier hermes run as root
// might have left one.
func miscRootFile(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

// miscGroup is the service user's group name.
func miscGroup() string {
	out, err := exec.Command("id", "-gn", ServiceUser).Output()
	if err != nil {
		return fmt.Sprint(svc.gid)
	}
	return strings.TrimSpace(string(out))
}
