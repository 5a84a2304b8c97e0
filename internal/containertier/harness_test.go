//go:build linux

package containertier

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nousresearch/hermes-service/internal/proctest"
	"github.com/nousresearch/hermes-service/internal/testbin"
	"github.com/nousresearch/hermes-service/internal/testgateway"
	"github.com/nousresearch/hermes-service/internal/upstreamgateway"
	"github.com/nousresearch/hermes-service/internal/wait"
)

// Budgets of the tier's waits.
const (
	// upWithin bounds a container's start, and its gateways' coming up.
	upWithin = 20 * time.Second
	// execWithin bounds one docker exec (a start waits 2 s of settle).
	execWithin = time.Minute
	// stopWithin bounds a docker stop: the halt's two graces and margin.
	stopWithin = 30 * time.Second
)

// layout is the image's layout as scripts/container.sh has it (its layout
// subcommand), the one place those values live.
var layout struct {
	scanDir, volumeAt, binAt, user string
	uid                            int
}

// bins is the folder bound at layout.binAt, and the programs in it by
// their names inside the container.
var bins struct {
	dir, hermes, upstream, testGateway string
}

// repo is the repository's root; script the runner in it.
var repo, script string

func TestMain(m *testing.M) {
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "the container tier runs containers (namespaces, mounts, pivot_root): run it as root (`make container` uses sudo)")
		os.Exit(1)
	}
	var err error
	if repo, err = repoRoot(); err == nil {
		script = filepath.Join(repo, Script)
		err = readLayout()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// The binaries go into a TrustedTemp folder: hermes trusts a plugin
	// only where every folder up to / is root's, which /tmp is not.
	testbin.Main(m, func(dir string) (err error) {
		bins.dir = dir
		for _, b := range []struct {
			to  *string
			pkg string
		}{
			{&bins.hermes, "github.com/nousresearch/hermes-service/cmd/hermes"},
			{nil, "github.com/nousresearch/hermes-service/plugins/s6/cmd/hermes-service-s6"},
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

// repoRoot is the folder holding go.mod, from the working directory up.
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

func readLayout() error {
	out, err := exec.Command(script, "layout").Output()
	if err != nil {
		return fmt.Errorf("%s layout: %w", script, err)
	}
	kv := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		k, v, _ := strings.Cut(line, "=")
		kv[k] = v
	}
	layout.scanDir, layout.volumeAt, layout.binAt, layout.user = kv["SCANDIR"], kv["VOLUME_AT"], kv["BIN_AT"], kv["SERVICE_USER"]
	layout.uid, err = strconv.Atoi(kv["SERVICE_UID"])
	if err != nil || layout.scanDir == "" || layout.volumeAt == "" || layout.binAt == "" {
		return fmt.Errorf("%s layout printed %q", script, out)
	}
	return nil
}

// volume is a host folder that plays the home's volume: owned by the
// service user, as upstream's /opt/data is.
type volume struct {
	t    testing.TB
	root string
}

func newVolume(t testing.TB) *volume {
	t.Helper()
	dir, err := testbin.TrustedTemp("container-volume-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := os.Chown(dir, layout.uid, layout.uid); err != nil {
		t.Fatal(err)
	}
	return &volume{t: t, root: dir}
}

// path is a path in the volume, from the container's home path or a
// relative one.
func (v *volume) path(rel string) string {
	return filepath.Join(v.root, strings.TrimPrefix(rel, layout.volumeAt))
}

// profileDir is a profile's folder, relative to the volume.
func profileDir(profile string) string {
	if profile == "default" {
		return ""
	}
	return filepath.Join("profiles", profile)
}

// addProfile makes profiles/<name>/SOUL.md as the service user would.
func (v *volume) addProfile(name string) {
	v.t.Helper()
	dir := v.path(profileDir(name))
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			v.t.Fatal(err)
		}
		if err := os.Chown(d, layout.uid, layout.uid); err != nil {
			v.t.Fatal(err)
		}
	}
	soul := filepath.Join(dir, "SOUL.md")
	if err := os.WriteFile(soul, []byte("# "+name+"\n"), 0o644); err != nil {
		v.t.Fatal(err)
	}
	if err := os.Chown(soul, layout.uid, layout.uid); err != nil {
		v.t.Fatal(err)
	}
}

// ownedByService fails for every entry of the volume (links not followed)
// the service user does not own: root's commands (cont-init, docker exec)
// must leave nothing of their own there.
func (v *volume) ownedByService() {
	v.t.Helper()
	var bad []string
	err := filepath.WalkDir(v.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := os.Lstat(p)
		if err != nil {
			return err
		}
		if st := info.Sys().(*syscall.Stat_t); int(st.Uid) != layout.uid {
			bad = append(bad, fmt.Sprintf("%s (uid %d)", strings.TrimPrefix(p, v.root), st.Uid))
		}
		return nil
	})
	if err != nil {
		v.t.Errorf("walking the volume: %v", err)
	}
	if len(bad) > 0 {
		v.t.Errorf("%d entries of the volume are not the service user's (uid %d): %s", len(bad), layout.uid, strings.Join(bad, ", "))
	}
}

// auditLines are the lines of logs/container-boot.log.
func (v *volume) auditLines() []string {
	v.t.Helper()
	data, err := os.ReadFile(v.path("logs/container-boot.log"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		v.t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

// container is one run of scripts/container.sh start.
type container struct {
	// t reports failures: the (sub)test using the container now. owner is
	// the test whose end removes it.
	t, owner testing.TB
	state    string // the runner's state folder
	proc     *proctest.Proc
	pid1     int    // PID 1's pid on this machine
	pidNS    string // its pid namespace, e.g. pid:[4026532841]
	// console is what s6-svscan and everything under it wrote.
	console *proctest.Buffer
	// envOpts are the container's --env options.
	envOpts []string
	vol     *volume
}

// startContainer runs a container on vol with the repository's cont-init
// folder, and waits until its s6-svscan serves the scandir. env are
// KEY=VALUE of the container's environment (the image's ENV, docker run
// -e).
func startContainer(t testing.TB, vol *volume, env ...string) *container {
	t.Helper()
	state, err := testbin.TrustedTemp("container-state-")
	if err != nil {
		t.Fatal(err)
	}
	c := &container{t: t, owner: t, state: state, vol: vol, envOpts: env}
	args := []string{"start", "--state", state, "--volume", vol.root, "--bin", bins.dir,
		"--cont-init", filepath.Join(repo, filepath.Dir(ContInit))}
	for _, kv := range env {
		args = append(args, "--env", kv)
	}
	c.proc = proctest.Start(t, exec.Command(script, args...))
	c.console = c.proc.Out
	// Registered after proctest's: runs before it, so PID 1 is ended by
	// its own pid (the namespace with it) before the runner would be
	// killed, and nothing is left.
	t.Cleanup(func() { c.t = c.owner; c.remove(); _ = os.RemoveAll(state) })
	if r := c.run("ready", "--timeout", strconv.Itoa(int(upWithin/time.Second))); r.code != 0 {
		t.Fatalf("the container did not come up: %v\nconsole:\n%s", r, c.console)
	}
	data, err := os.ReadFile(filepath.Join(state, "pid"))
	if err == nil {
		c.pid1, err = strconv.Atoi(strings.TrimSpace(string(data)))
	}
	if err == nil {
		c.pidNS, err = os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", c.pid1))
	}
	if err != nil {
		t.Fatalf("the container's PID 1: %v", err)
	}
	return c
}

// result is one command's outcome.
type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// run runs the runner with a subcommand on this container.
func (c *container) run(sub string, args ...string) result {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), execWithin)
	defer cancel()
	cmd := exec.CommandContext(ctx, script, append([]string{sub, "--state", c.state}, args...)...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			c.t.Fatalf("%s %s: %v", script, sub, err)
		}
		code = ee.ExitCode()
	}
	return result{out.String(), errOut.String(), code}
}

// exec is docker exec: argv inside, as root, with the container's
// environment.
func (c *container) exec(argv ...string) result {
	c.t.Helper()
	return c.run("exec", append([]string{"--"}, argv...)...)
}

// hermes is docker exec hermes ARGS...
func (c *container) hermes(args ...string) result {
	c.t.Helper()
	return c.exec(append([]string{bins.hermes}, args...)...)
}

// mustHermes is hermes, failing the test unless it exits 0.
func (c *container) mustHermes(args ...string) result {
	c.t.Helper()
	r := c.hermes(args...)
	if r.code != 0 {
		c.t.Fatalf("hermes %s: %v", strings.Join(args, " "), r)
	}
	return r
}

// contInit is s6-overlay's cont-init step, through the exec path:
// container/cont-init.d/02-reconcile-profiles as root.
func (c *container) contInit() result {
	c.t.Helper()
	return c.run("cont-init")
}

// stop is docker stop in one form; it returns PID 1's exit code once the
// container is gone.
func (c *container) stop(form string) int {
	c.t.Helper()
	if r := c.run("stop", "--form="+form, "--timeout", strconv.Itoa(int(stopWithin/time.Second))); r.code != 0 {
		c.t.Fatalf("docker stop --form=%s: %v", form, r)
	}
	code := c.proc.Exited(c.t, stopWithin)
	c.gone()
	return code
}

// remove ends a container a test left running (SIGKILL to its PID 1, a
// process this test started), then checks it left nothing.
func (c *container) remove() {
	if c.pid1 == 0 {
		// It never came up, or the test ended before it was read.
		data, _ := os.ReadFile(filepath.Join(c.state, "pid"))
		c.pid1, _ = strconv.Atoi(strings.TrimSpace(string(data)))
		if c.pid1 != 0 {
			c.pidNS, _ = os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", c.pid1))
		}
	}
	if c.pid1 != 0 && c.alive() {
		_ = syscall.Kill(c.pid1, syscall.SIGKILL)
		select {
		case <-c.proc.Done:
		case <-time.After(stopWithin):
		}
	}
	if c.pidNS != "" {
		c.gone()
	}
}

// alive is true while PID 1 runs.
func (c *container) alive() bool {
	ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", c.pid1))
	return err == nil && ns == c.pidNS && !zombie(c.pid1)
}

// gone fails unless nothing of the container is left: no live process in
// its pid namespace (zombies the machine's PID 1 has yet to reap are not
// ours to wait for) and no mount under its state folder.
func (c *container) gone() {
	c.t.Helper()
	var left []string
	err := wait.For(context.Background(), "the container's processes to end", upWithin, func() bool {
		left = c.processes()
		return len(left) == 0
	})
	if err != nil {
		c.t.Errorf("%v: still running: %s", err, strings.Join(left, "; "))
	}
	mounts, _ := os.ReadFile("/proc/self/mounts")
	for _, line := range strings.Split(string(mounts), "\n") {
		if f := strings.Fields(line); len(f) > 1 && strings.HasPrefix(f[1], c.state) {
			c.t.Errorf("still mounted after the container: %s", line)
		}
	}
}

// processes are the live processes in the container's pid namespace.
func (c *container) processes() []string {
	var out []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", pid)); err != nil || ns != c.pidNS || zombie(pid) {
			continue
		}
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		out = append(out, fmt.Sprintf("%d %s", pid, bytes.ReplaceAll(bytes.TrimRight(cmdline, "\x00"), []byte{0}, []byte{' '})))
	}
	return out
}

// zombie is true for a process that has exited and awaits its reaper.
func zombie(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	i := bytes.LastIndexByte(data, ')')
	return i < 0 || i+2 >= len(data) || data[i+2] == 'Z' || data[i+2] == 'X'
}

// inside is a path inside the running container, read from this machine.
func (c *container) inside(p string) string {
	return fmt.Sprintf("/proc/%d/root%s", c.pid1, p)
}

// environ is the environment of a process of the container, by its pid
// there.
func (c *container) environ(pid int) (map[string]string, error) {
	data, err := os.ReadFile(c.inside(fmt.Sprintf("/proc/%d/environ", pid)))
	if err != nil {
		return nil, err
	}
	env := map[string]string{}
	for _, kv := range strings.Split(strings.TrimRight(string(data), "\x00"), "\x00") {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	return env, nil
}

// uid is the real uid of a process of the container, by its pid there.
func (c *container) uid(pid int) (int, error) {
	data, err := os.ReadFile(c.inside(fmt.Sprintf("/proc/%d/status", pid)))
	if err != nil {
		return -1, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == "Uid:" {
			return strconv.Atoi(f[1])
		}
	}
	return -1, errors.New("no Uid line in its status")
}

// status is one profile of hermes gateway status --all --json.
type status struct {
	Profile      string  `json:"profile"`
	State        string  `json:"state"`
	PID          *int    `json:"pid"`
	DesiredState *string `json:"desired_state"`
}

// statuses is hermes gateway status --all --json, by profile.
func (c *container) statuses() map[string]status {
	c.t.Helper()
	r := c.hermes("gateway", "status", "--all", "--json")
	var list []status
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil {
		c.t.Fatalf("status --all --json: %v\n%v", err, r)
	}
	out := map[string]status{}
	for _, s := range list {
		out[s.Profile] = s
	}
	return out
}

// startLine matches a gateway's first line on the console: the upstream
// stand-in's and the test gateway's, each naming the home it runs for.
var startLines = []struct{ prefix, homeField string }{
	{upstreamgateway.LinePrefix + "start pid=", "home="},
	{"test gateway started pid=", "HERMES_HOME="},
}

// consoleStarts counts the gateway starts on the console, by home (the
// path inside the container).
func (c *container) consoleStarts() map[string]int {
	counts := map[string]int{}
	sc := bufio.NewScanner(strings.NewReader(c.console.String()))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		for _, l := range startLines {
			i := strings.Index(line, l.prefix)
			if i < 0 {
				continue
			}
			for _, f := range strings.Fields(line[i+len(l.prefix):]) {
				if home, ok := strings.CutPrefix(f, l.homeField); ok {
					counts[home]++
				}
			}
		}
	}
	return counts
}
