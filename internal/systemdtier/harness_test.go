//go:build linux

package systemdtier

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nousresearch/hermes-service/internal/testbin"
	"github.com/nousresearch/hermes-service/internal/testgateway"
	"github.com/nousresearch/hermes-service/internal/upstreamgateway"
	"github.com/nousresearch/hermes-service/internal/wait"
)

// Budgets of the tier's waits.
const (
	// bootWithin bounds a boot or a reboot until the manager runs.
	bootWithin = 30 * time.Second
	// execWithin bounds one command inside.
	execWithin = 2 * time.Minute
)

// layout is scripts/nspawn.sh's layout (its layout subcommand).
var layout struct {
	binAt, user, other string
	uid, otherUID      int
}

// bins are the programs bound at layout.binAt, by their paths inside.
var bins struct {
	dir, hermes, upstream, testGateway string
}

var repo, script, nspawnDir, tree string

func TestMain(m *testing.M) {
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "the systemd tier boots containers (cgroups, namespaces, nspawn): run it as root (`make systemd-tier` uses sudo)")
		os.Exit(1)
	}
	var err error
	if repo, err = repoRoot(); err == nil {
		script = filepath.Join(repo, Script)
		err = prepare()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testbin.Main(m, func(dir string) error {
		bins.dir = dir
		for _, b := range []struct {
			to  *string
			pkg string
		}{
			{&bins.hermes, "github.com/nousresearch/hermes-service/cmd/hermes"},
			{nil, "github.com/nousresearch/hermes-service/plugins/systemd/cmd/hermes-service-systemd"},
			{&bins.upstream, upstreamgateway.Package},
			{&bins.testGateway, testgateway.Package},
		} {
			p, err := testbin.Build(dir, b.pkg)
			if err != nil {
				return err
			}
			if b.to != nil {
				*b.to = filepath.Join(layout.binAt, filepath.Base(p))
			}
		}
		return nil
	})
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", errors.New("no go.mod above the working directory: run the tier from the repository")
		}
		dir = up
	}
}

// prepare reads the layout and has the script get nspawn and the tree
// (once; cached in CacheDir).
func prepare() error {
	kv, err := keyValues(exec.Command(script, "layout"))
	if err != nil {
		return err
	}
	layout.binAt, layout.user, layout.other = kv["BIN_AT"], kv["USER"], kv["OTHER_USER"]
	layout.uid, _ = strconv.Atoi(kv["USER_UID"])
	layout.otherUID, _ = strconv.Atoi(kv["OTHER_UID"])
	cmd := exec.Command(script, "prepare", "--cache", CacheDir)
	cmd.Stderr = os.Stderr
	if kv, err = keyValues(cmd); err != nil {
		return fmt.Errorf("the systemd tier cannot run: %w", err)
	}
	nspawnDir, tree = kv["NSPAWN"], kv["TREE"]
	if nspawnDir == "" || tree == "" {
		return fmt.Errorf("%s prepare printed no NSPAWN or TREE", script)
	}
	return nil
}

func keyValues(cmd *exec.Cmd) (map[string]string, error) {
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", strings.Join(cmd.Args, " "), err)
	}
	kv := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			kv[k] = v
		}
	}
	return kv, nil
}

// machine is one booted container: systemd as its PID 1.
type machine struct {
	t       *testing.T
	state   string
	console *bytes.Buffer
	done    chan error
}

// pid1Cgroup is what the machine's PID 1 says of its cgroups; a boot
// checks it did not change.
func pid1Cgroup(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("/proc/1/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// boot starts a container on a fresh overlay of the tree, in the pure
// cgroup2 layout when unified, and waits until its manager runs.
func boot(t *testing.T, unified bool) *machine {
	t.Helper()
	before := pid1Cgroup(t)
	state, err := testbin.TrustedTemp("systemd-state-")
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"boot", "--state", state, "--tree", tree, "--nspawn", nspawnDir, "--bind-ro", bins.dir + ":" + layout.binAt}
	if unified {
		args = append(args, "--unified")
	}
	m := &machine{t: t, state: state, console: &bytes.Buffer{}, done: make(chan error, 1)}
	cmd := exec.Command(script, args...)
	cmd.Stdout, cmd.Stderr = m.console, m.console
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { m.done <- cmd.Wait() }()
	t.Cleanup(func() {
		if out, err := exec.Command(script, "stop", "--state", state).CombinedOutput(); err != nil {
			t.Errorf("stop: %v\n%s", err, out)
		}
		select {
		case <-m.done:
		case <-time.After(time.Minute):
			t.Errorf("the boot did not end")
		}
		if t.Failed() {
			t.Logf("console:\n%s", m.console)
		}
		_ = os.RemoveAll(state)
		if after := pid1Cgroup(t); after != before {
			t.Errorf("the machine's PID 1 changed cgroups:\nbefore:\n%safter:\n%s", before, after)
		}
	})
	m.waitRunning(1)
	if after := pid1Cgroup(t); after != before {
		t.Fatalf("the machine's PID 1 changed cgroups while booting:\nbefore:\n%safter:\n%s", before, after)
	}
	return m
}

// boots is how many times the container booted.
func (m *machine) boots() int {
	data, _ := os.ReadFile(filepath.Join(m.state, "boots"))
	n, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	return n
}

// waitRunning waits for boot number n to have its manager running.
func (m *machine) waitRunning(n int) {
	m.t.Helper()
	err := wait.Poll{What: fmt.Sprintf("boot %d to run", n), Timeout: bootWithin, Interval: 50 * time.Millisecond}.Until(context.Background(), func() (bool, error) {
		select {
		case err := <-m.done:
			return true, fmt.Errorf("the container ended: %v", err)
		default:
		}
		if m.boots() != n {
			return false, nil
		}
		out, _ := m.run("", "systemctl", "is-system-running")
		return out == "running\n" || out == "degraded\n", nil
	})
	if err != nil {
		m.t.Fatalf("%v\nconsole:\n%s", err, m.console)
	}
}

// reboot is systemctl reboot, and the wait for the next boot.
func (m *machine) reboot() {
	m.t.Helper()
	n := m.boots()
	_, _ = m.run("", "systemctl", "reboot")
	m.waitRunning(n + 1)
}

// run runs argv inside as user ("" is root), returning its combined output
// and exit code (-1 when it could not run).
func (m *machine) run(user string, argv ...string) (string, int) {
	args := []string{"exec", "--state", m.state}
	if user != "" {
		args = append(args, "--user", user)
	}
	ctx, cancel := context.WithTimeout(context.Background(), execWithin)
	defer cancel()
	cmd := exec.CommandContext(ctx, script, append(append(args, "--"), argv...)...)
	out, err := cmd.CombinedOutput()
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		code = -1
		out = append(out, err.Error()...)
	}
	return string(out), code
}

// must runs argv and fails the test unless it exits 0.
func (m *machine) must(user string, argv ...string) string {
	m.t.Helper()
	out, code := m.run(user, argv...)
	if code != 0 {
		m.t.Fatalf("%s (as %q): exit %d\n%s", strings.Join(argv, " "), user, code, out)
	}
	return out
}

// hermes runs the hermes binary inside as user.
func (m *machine) hermes(user string, args ...string) (string, int) {
	return m.run(user, append([]string{bins.hermes}, args...)...)
}

// file is a file's content inside, "" when it cannot be read.
func (m *machine) file(path string) string {
	out, code := m.run("", "cat", path)
	if code != 0 {
		return ""
	}
	return out
}

// show is one property of a unit ("" scope: the system's, else the flag).
func (m *machine) show(user, unit, prop string, userScope bool) string {
	argv := []string{"systemctl"}
	if userScope {
		argv = append(argv, "--user")
	}
	out, _ := m.run(user, append(argv, "show", "-p", prop, "--value", unit)...)
	return strings.TrimSpace(out)
}

// until polls cond for at most d, failing the test with what.
func (m *machine) until(what string, d time.Duration, cond func() bool) {
	m.t.Helper()
	if err := wait.For(context.Background(), what, d, cond); err != nil {
		m.t.Fatal(err)
	}
}
