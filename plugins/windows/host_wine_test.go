//go:build windows

package windows

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	win "golang.org/x/sys/windows"
	"golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/mgr"

	"github.com/nousresearch/hermes-service/internal/upstreamgateway"
	"github.com/nousresearch/hermes-service/shared/gateway"
	"github.com/nousresearch/hermes-service/shared/service"
)

// The tests in this file drive the Windows backend the way an operator
// does: hermes.exe, which launches hermes-service-windows.exe over
// go-plugin (loopback TCP, AutoMTLS), against the Service Control Manager
// (Wine's, in `make test`). The gateway is the stand-in of upstream's real
// gateway (internal/upstreamgateway) under --protocol hermes, found as
// upstream's CLI; the environment is checked with the test gateway, which
// writes what it got to a file.

// cli runs hermes.exe in home and returns its output and exit code.
type cli struct {
	t    *testing.T
	bin  string
	home string
	env  []string
}

func newCLI(t *testing.T, bin, home string, env ...string) *cli {
	return &cli{t: t, bin: bin, home: home, env: env}
}

func (c *cli) run(args ...string) (stdout, stderr string, code int) {
	c.t.Helper()
	cmd := exec.Command(filepath.Join(c.bin, "hermes.exe"), args...)
	cmd.Env = append(append(os.Environ(), gateway.EnvPair(gateway.EnvHome, c.home)), c.env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		code = exit.ExitCode()
	default:
		c.t.Fatalf("hermes %q: %v", args, err)
	}
	return out.String(), errOut.String(), code
}

// ok runs a command that must succeed.
func (c *cli) ok(args ...string) string {
	c.t.Helper()
	out, errOut, code := c.run(args...)
	if code != 0 {
		c.t.Fatalf("hermes %q: exit %d\n%s%s", args, code, out, errOut)
	}
	return out
}

// jsonStatus is `hermes gateway status --json`.
type jsonStatus struct {
	Installed    bool    `json:"installed"`
	State        string  `json:"state"`
	PID          *int    `json:"pid"`
	LastExit     *int    `json:"last_exit"`
	Enabled      *bool   `json:"enabled"`
	DesiredState *string `json:"desired_state"`
	Detail       string  `json:"detail"`
}

func (c *cli) status(profile string) jsonStatus {
	c.t.Helper()
	out, errOut, code := c.run("gateway", "status", "-p", profile, "--json")
	var st jsonStatus
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		c.t.Fatalf("status --json (exit %d): %v\n%s%s", code, err, out, errOut)
	}
	return st
}

// winTestBin is the folder of the Windows binaries `make wine-test` builds.
// Without it the tier cannot run, which is a failure, never a skip: a
// green run must mean the tests ran.
func winTestBin(t *testing.T) string {
	bin := os.Getenv("HERMES_WIN_TEST_BIN")
	if bin == "" {
		t.Fatal("HERMES_WIN_TEST_BIN is not set: these tests need the Windows binaries; run them with `make wine-test`, " +
			"which builds hermes.exe, the plugin and the stand-in gateways and sets it")
	}
	return bin
}

// testHome is a fresh Hermes home. Not t.TempDir: Wine sometimes refuses
// to delete a file a just-ended process had open ("Invalid function"),
// which is no failure of ours.
func testHome(t *testing.T) string {
	home, err := os.MkdirTemp("", "hermes-wine-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(home) })
	return home
}

// scmService opens profile's service for a look the CLI does not give.
func scmService(t *testing.T, profile string) (*mgr.Mgr, *mgr.Service) {
	t.Helper()
	m, err := mgr.Connect()
	if err != nil {
		t.Fatal(err)
	}
	s, err := m.OpenService(ServiceName(profile))
	if err != nil {
		m.Disconnect()
		t.Fatalf("open %s: %v", ServiceName(profile), err)
	}
	return m, s
}

func startTypeOf(t *testing.T, profile string) uint32 {
	t.Helper()
	m, s := scmService(t, profile)
	defer m.Disconnect()
	defer s.Close()
	kind, err := queryStartType(s)
	if err != nil {
		t.Fatal(err)
	}
	return kind
}

// TestEnvironmentThroughHermes: --env values reach the gateway byte for
// byte (a %, quotes, non-ASCII, an empty value, a newline), none of them
// is in the service's command line, and the file that keeps them is open
// to SYSTEM, Administrators and the service's account alone.
func TestEnvironmentThroughHermes(t *testing.T) {
	bin := winTestBin(t)
	home := testHome(t)
	profile := testProfile("we")
	h := newCLI(t, bin, home)
	t.Cleanup(func() { h.run("gateway", "uninstall", "-p", profile) })
	dump := filepath.Join(home, "gateway-env.bin")
	want := map[string]string{
		"WEIRD":     "a%PATH%b",
		"PERCENTS":  "100% %% %",
		"QUOTES":    `say "hi" 'there' \"x\\`,
		"UNICODE":   "ünïcödé 日本語 🚀",
		"EMPTY":     "",
		"SPACES":    "  lead and trail  ",
		"NEWLINE":   "one\ntwo\r\nthree",
		"TOKEN":     "sk-secret-token-value",
		"EQUALS":    "a=b=c",
		"EXCLAIMED": "!VAR! ^&|<>",
	}
	args := []string{"gateway", "install", "-p", profile, "--protocol", "plain", "--no-start-on-login",
		"--gateway-command", `"` + filepath.Join(bin, "hermes-test-gateway.exe") + `"`,
		"--env", "TESTGATEWAY_ENV_FILE=" + dump}
	for k, v := range want {
		args = append(args, "--env", k+"="+v)
	}
	h.ok(args...)

	var got map[string]string
	waitFunc(t, "the test gateway's environment in "+dump, func() bool {
		data, err := os.ReadFile(dump)
		if err != nil {
			return false
		}
		got = map[string]string{}
		for _, kv := range strings.Split(strings.TrimSuffix(string(data), "\x00"), "\x00") {
			if k, v, ok := strings.Cut(kv, "="); ok && k != "" {
				got[k] = v
			}
		}
		return true
	})
	for k, v := range want {
		if g, ok := got[k]; !ok || !bytes.Equal([]byte(g), []byte(v)) {
			t.Errorf("%s: the gateway got %q (set %v), want %q", k, g, ok, v)
		}
	}
	if path := got["PATH"]; path == "" || strings.Contains(got["WEIRD"], path) {
		t.Errorf("WEIRD was expanded with PATH: %q", got["WEIRD"])
	}

	// Nothing of it in the command line, which any user may read.
	m, s := scmService(t, profile)
	cfg, err := queryConfig(s)
	if err != nil {
		t.Fatal(err)
	}
	line := win.UTF16PtrToString(cfg.BinaryPathName)
	s.Close()
	m.Disconnect()
	for _, secret := range []string{"WEIRD", "sk-secret", "TESTGATEWAY_ENV_FILE", "--env"} {
		if strings.Contains(line, secret) {
			t.Errorf("the service's command line holds %q: %s", secret, line)
		}
	}
	dir := filepath.Join(home, "profiles", profile)
	f, err := os.Open(filepath.Join(dir, EnvFile))
	if err != nil {
		t.Fatal(err)
	}
	why := envFileDistrust(win.Handle(f.Fd()))
	f.Close()
	if why != "" {
		t.Errorf("%s as install wrote it: %s", EnvFile, why)
	}
	t.Logf("10 values byte for byte; command line: %s", line)

	h.ok("gateway", "uninstall", "-p", profile)
	if _, err := os.Stat(filepath.Join(dir, EnvFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s outlived the service: %v", EnvFile, err)
	}
}

// TestLifecycleThroughHermes takes a hermes-protocol service through its
// life with hermes.exe: the gateway is the stand-in of upstream's, which
// on Windows stops only through its planned-stop watcher.
func TestLifecycleThroughHermes(t *testing.T) {
	bin := winTestBin(t)
	home := testHome(t)
	profile := testProfile("wl")
	dir := filepath.Join(home, "profiles", profile)
	t.Cleanup(func() { logOnFailure(t, dir) })
	// The stand-in stands where upstream's CLI is found: hermes asks it for
	// `gateway run --help` and installs `<it> -p P gateway run
	// --external-supervisor`.
	h := newCLI(t, bin, home, gateway.EnvPair(gateway.EnvUpstreamCLI, `"`+filepath.Join(bin, "hermes-upstream-gateway.exe")+`"`))
	t.Cleanup(func() { h.run("gateway", "uninstall", "-p", profile) })

	// Missing: every lifecycle command fails naming the service, exit 1.
	for _, verb := range []string{"start", "stop", "restart"} {
		out, errOut, code := h.run("gateway", verb, "-p", profile)
		if code != 1 || !strings.Contains(errOut, ServiceName(profile)) || !strings.Contains(errOut, "install") {
			t.Fatalf("%s of a missing service: exit %d\n%s%s", verb, code, out, errOut)
		}
	}

	h.ok("gateway", "install", "-p", profile, "--env", upstreamgateway.EnvMaxStarts+"=0")
	st := runningStatus(t, h, profile, dir)
	if st.Enabled == nil || !*st.Enabled || startTypeOf(t, profile) != startAutomatic {
		t.Fatalf("installed to start at boot, yet %+v (start type %d)", st, startTypeOf(t, profile))
	}
	first := *st.PID
	text := h.ok("gateway", "status", "-p", profile)
	if !strings.Contains(text, "detail: the Service Control Manager says: running; gateway PID") || strings.Contains(text, "SCM state") {
		t.Errorf("status in words:\n%s", text)
	}

	// A duplicate without --force names the service.
	if _, errOut, code := h.run("gateway", "install", "-p", profile); code == 0 || !strings.Contains(errOut, ServiceName(profile)) ||
		!strings.Contains(errOut, "--force") {
		t.Fatalf("duplicate install: exit %d\n%s", code, errOut)
	}

	// Stop: the operator's, handed to the gateway as the marker naming it,
	// which the gateway itself classifies as planned.
	h.ok("gateway", "stop", "-p", profile)
	gs, _ := gateway.ReadState(dir)
	if gs.GatewayState() != gateway.GatewayStopped || gs.DesiredState() != service.DesiredStopped {
		t.Fatalf("after stop: gateway_state %q desired_state %q", gs.GatewayState(), gs.DesiredState())
	}
	logs := readLog(t, dir)
	if !strings.Contains(logs, upstreamgateway.StopLine(upstreamgateway.SignalNone, true, upstreamgateway.ReasonMarker)) ||
		!strings.Contains(logs, upstreamgateway.ExitLine(gateway.ExitOK, gateway.GatewayStopped)) {
		t.Fatalf("the gateway did not classify the stop as planned by its marker:\n%s", logs)
	}
	if _, err := os.Stat(filepath.Join(dir, gateway.PlannedStopFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the planned-stop marker outlived the stop: %v", err)
	}
	st = h.status(profile)
	if st.State != string(service.StateStopped) || st.PID != nil || st.DesiredState == nil || *st.DesiredState != service.DesiredStopped ||
		st.LastExit == nil || *st.LastExit != 0 {
		t.Fatalf("status after stop: %+v", st)
	}
	// It holds across a reboot: Windows starts automatic services at boot,
	// and the stopped one is manual now. (Wine's SCM cannot reboot; the
	// start type is what Windows reads at boot.)
	if st.Enabled == nil || *st.Enabled || startTypeOf(t, profile) != startManual {
		t.Fatalf("an operator's stop left the service automatic (start type %d)", startTypeOf(t, profile))
	}

	// Start and restart: a new gateway each time, automatic again.
	h.ok("gateway", "start", "-p", profile)
	st = runningStatus(t, h, profile, dir)
	second := *st.PID
	if second == first || startTypeOf(t, profile) != startAutomatic || *st.DesiredState != service.DesiredRunning {
		t.Fatalf("start: pid %d -> %d, start type %d, %+v", first, second, startTypeOf(t, profile), st)
	}
	h.ok("gateway", "restart", "-p", profile)
	st = runningStatus(t, h, profile, dir)
	third := *st.PID
	if third == second || startTypeOf(t, profile) != startAutomatic {
		t.Fatalf("restart kept gateway pid %d (start type %d)", third, startTypeOf(t, profile))
	}

	// An SCM Stop from outside hermes (sc stop, services.msc) is the
	// operator's too: the service process marks it and keeps it across a
	// reboot; an SCM start makes the service automatic again.
	m, s := scmService(t, profile)
	if _, err := s.Control(svc.Stop); err != nil {
		t.Fatal(err)
	}
	if err := waitFor(context.Background(), s, svc.Stopped, time.Minute); err != nil {
		t.Fatal(err)
	}
	gs, _ = gateway.ReadState(dir)
	if gs.GatewayState() != gateway.GatewayStopped || gs.DesiredState() != service.DesiredStopped || startTypeOf(t, profile) != startManual {
		t.Fatalf("sc stop: gateway_state %q desired_state %q, start type %d", gs.GatewayState(), gs.DesiredState(), startTypeOf(t, profile))
	}
	if err := startService(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	s.Close()
	m.Disconnect()
	st = runningStatus(t, h, profile, dir)
	if startTypeOf(t, profile) != startAutomatic {
		t.Fatalf("sc start left the service manual")
	}
	t.Logf("gateway pids %d -> %d -> %d -> %d; stops planned by the marker, start type manual while stopped", first, second, third, *st.PID)

	// An environment file someone else could have written is refused: the
	// service stops with the fatal-configuration exit, not restarted.
	h.ok("gateway", "stop", "-p", profile)
	if err := os.Remove(filepath.Join(dir, EnvFile)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, EnvFile), []byte(`{"PYTHONPATH":"C:\\evil"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code := h.run("gateway", "start", "-p", profile); code != 1 || !strings.Contains(errOut, "exit 78") {
		t.Fatalf("start with an untrusted environment file: exit %d\n%s", code, errOut)
	}
	if st = h.status(profile); st.State != string(service.StateFailed) || st.LastExit == nil || *st.LastExit != gateway.ExitConfig {
		t.Fatalf("status with an untrusted environment file: %+v", st)
	}

	h.ok("gateway", "uninstall", "-p", profile)
	if st = h.status(profile); st.Installed {
		t.Fatalf("still installed: %+v", st)
	}
	h.ok("gateway", "uninstall", "-p", profile) // a missing service: nothing to do
}

// runningStatus waits for the gateway to run and checks status's pid: the
// gateway's own (its gateway.pid), not the service process's.
func runningStatus(t *testing.T, h *cli, profile, dir string) jsonStatus {
	t.Helper()
	var st jsonStatus
	waitFunc(t, "the "+profile+" gateway running with a pid", func() bool {
		st = h.status(profile)
		return st.State == string(service.StateRunning) && st.PID != nil
	})
	rec, err := gateway.Upstream.ReadPIDRecord(dir)
	if err != nil || rec == nil || rec.PID != *st.PID {
		t.Fatalf("status pid %d, gateway.pid %+v (%v)", *st.PID, rec, err)
	}
	m, s := scmService(t, profile)
	defer m.Disconnect()
	defer s.Close()
	if q, err := s.Query(); err != nil || int(q.ProcessId) == *st.PID {
		t.Fatalf("status shows the service process %d, not the gateway (%v)", q.ProcessId, err)
	}
	return st
}

func readLog(t *testing.T, dir string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "logs", "gateway.log"))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestSCMFailureThroughHermes: a service whose program is gone cannot
// start; hermes says which SCM call failed, with its Win32 code and text,
// and exits 1.
func TestSCMFailureThroughHermes(t *testing.T) {
	bin := winTestBin(t)
	home := testHome(t)
	profile := testProfile("wf")
	// A copy of the plugin installs the service (the service runs the
	// plugin that installed it), then goes.
	plugins := testHome(t)
	data, err := os.ReadFile(filepath.Join(bin, "hermes-service-windows.exe"))
	if err != nil {
		t.Fatal(err)
	}
	copyExe := filepath.Join(plugins, "hermes-service-windows.exe")
	if err := os.WriteFile(copyExe, data, 0o755); err != nil {
		t.Fatal(err)
	}
	withCopy := newCLI(t, bin, home, gateway.EnvPair(gateway.EnvPluginPath, plugins))
	h := newCLI(t, bin, home)
	t.Cleanup(func() { h.run("gateway", "uninstall", "-p", profile) })
	withCopy.ok("gateway", "install", "-p", profile, "--protocol", "plain", "--no-start-now",
		"--gateway-command", `"`+filepath.Join(bin, "hermes-test-gateway.exe")+`"`)
	if err := os.Remove(copyExe); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := h.run("gateway", "start", "-p", profile)
	if code != 1 || !strings.Contains(errOut, "start failed for "+ServiceName(profile)) || !strings.Contains(errOut, "exit code 2") {
		t.Fatalf("start of a service without its program: exit %d\n%s%s", code, out, errOut)
	}
	t.Logf("SCM failure through hermes: %s", strings.TrimSpace(errOut))
}

// testProfile is a profile name no earlier run used: under Wine every test
// process has the same pid, and a service of an earlier run may still be
// going away in the prefix the runs share.
func testProfile(prefix string) string {
	return prefix + strconv.FormatInt(time.Now().UnixNano()%(1<<40), 36)
}
