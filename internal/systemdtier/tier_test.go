//go:build linux

package systemdtier

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nousresearch/hermes-service/internal/upstreamgateway"
	"github.com/nousresearch/hermes-service/shared/gateway"
)

// noStorm turns off the stand-in's respawn-storm breaker: the tier starts
// a profile more often in a minute than a machine does in a day.
var noStorm = upstreamgateway.EnvMaxStarts + "=0"

// layouts are the cgroup layouts the tier boots: nspawn's pick here
// (hybrid), and pure cgroup2.
var layouts = []struct {
	name    string
	unified bool
}{{"hybrid", false}, {"unified", true}}

// upstreamArgs runs upstream's stand-in for profile under the hermes
// protocol.
func upstreamArgs(profile string) []string {
	return []string{"--protocol", "hermes", "--gateway-command", bins.upstream + " -p " + profile + " gateway run", "--env", noStorm}
}

// plainArgs runs the test gateway under the plain protocol.
func plainArgs(env ...string) []string {
	args := []string{"--protocol", "plain", "--gateway-command", bins.testGateway}
	for _, e := range env {
		args = append(args, "--env", e)
	}
	return args
}

// state reads a profile's gateway_state.json inside.
func (m *machine) gatewayState(dir string) map[string]any {
	st := map[string]any{}
	_ = json.Unmarshal([]byte(m.file(filepath.Join(dir, gateway.StateFile))), &st)
	return st
}

func (m *machine) desired(dir string) string {
	s, _ := m.gatewayState(dir)[gateway.KeyDesiredState].(string)
	return s
}

// mainPID is a unit's main pid, 0 when none.
func (m *machine) mainPID(user, unit string, userScope bool) int {
	n, _ := strconv.Atoi(m.show(user, unit, "MainPID", userScope))
	return n
}

// TestSystemUnits: root installs system units that run the gateway as the
// unprivileged alice, in both cgroup layouts.
func TestSystemUnits(t *testing.T) {
	for _, l := range layouts {
		t.Run(l.name, func(t *testing.T) {
			m := boot(t, l.unified)
			home := "/home/" + layout.user + "/.hermes"
			work := filepath.Join(home, "profiles", "work")
			unit := "hermes-gateway-work.service"

			// Finding 7: nobody is refused, with a hint, and nothing is
			// written.
			out, code := m.hermes("", append([]string{"-p", "nobody", "gateway", "install", "--system", "--run-as-user", "nobody"}, plainArgs()...)...)
			if code != 2 || !strings.Contains(out, "useradd") || m.file("/etc/systemd/system/hermes-gateway-nobody.service") != "" {
				t.Fatalf("install for nobody: exit %d\n%s", code, out)
			}

			// Findings 2 and 3: root's install for alice puts HERMES_HOME
			// and the working folder in alice's home, made with her as
			// owner, and the first start works.
			start := time.Now()
			out = m.must("", append([]string{bins.hermes, "-p", "work", "gateway", "install", "--system", "--run-as-user", layout.user}, upstreamArgs("work")...)...)
			t.Logf("install and start: %s", time.Since(start).Round(time.Millisecond))
			unitText := m.file("/etc/systemd/system/" + unit)
			if !strings.Contains(unitText, `Environment="HERMES_HOME=`+home+`"`) || !strings.Contains(unitText, "WorkingDirectory="+work+"\n") {
				t.Fatalf("unit:\n%s", unitText)
			}
			if owner := m.must("", "stat", "-c", "%U", home, work); owner != layout.user+"\n"+layout.user+"\n" {
				t.Fatalf("owners of the home and the profile's folder: %q", owner)
			}
			pid := m.mainPID("", unit, false)
			if pid == 0 || m.show("", unit, "ActiveState", false) != "active" {
				t.Fatalf("not running after install: %s", m.must("", "systemctl", "status", "--no-pager", unit))
			}
			if uid := strings.Fields(m.must("", "stat", "-c", "%u", fmt.Sprintf("/proc/%d", pid)))[0]; uid != strconv.Itoa(layout.uid) {
				t.Fatalf("the gateway runs as uid %s", uid)
			}
			if rec := m.file(filepath.Join(work, "gateway.pid")); !strings.Contains(rec, fmt.Sprintf(`"pid": %d`, pid)) && !strings.Contains(rec, fmt.Sprintf(`"pid":%d`, pid)) {
				t.Fatalf("gateway.pid %q, main pid %d: not one process", rec, pid)
			}

			// Finding 1: an operator's stop lasts across a reboot; start
			// undoes it.
			m.must("", bins.hermes, "-p", "work", "gateway", "stop")
			if en := m.show("", unit, "UnitFileState", false); en != "disabled" || m.desired(work) != "stopped" {
				t.Fatalf("after stop: %s, desired %q", en, m.desired(work))
			}
			m.reboot()
			if a := m.show("", unit, "ActiveState", false); a != "inactive" || m.desired(work) != "stopped" {
				t.Fatalf("an operator-stopped gateway after a reboot: %s, desired %q", a, m.desired(work))
			}
			out = m.must("", bins.hermes, "-p", "work", "gateway", "start")
			if en := m.show("", unit, "UnitFileState", false); en != "enabled" || !strings.Contains(out, "running, pid") {
				t.Fatalf("start: %s\n%s", en, out)
			}

			// Finding 1: a reboot is no operator's stop: the gateway comes
			// back, its intent still running, and the boot before says
			// why.
			pid = m.mainPID("", unit, false)
			m.reboot()
			m.until("the gateway to run after the reboot", 30*time.Second, func() bool {
				return m.show("", unit, "ActiveState", false) == "active"
			})
			if d := m.desired(work); d != "running" {
				t.Fatalf("after a reboot: desired %q", d)
			}
			prev := m.must("", "journalctl", "-b", "-1", "-u", unit, "--no-pager", "-q")
			if !strings.Contains(prev, "going down: not an operator's stop") || !strings.Contains(prev, upstreamgateway.StopLine("SIGTERM", false, upstreamgateway.ReasonNone)) {
				t.Fatalf("the shutdown's stop, as the boot before logged it:\n%s", prev)
			}

			// A crash restart keeps the intent, and a signal is named as
			// one (finding 7).
			pid = m.mainPID("", unit, false)
			m.must("", "kill", "-KILL", strconv.Itoa(pid))
			m.until("systemd to see the crash", 10*time.Second, func() bool { return m.show("", unit, "SubState", false) == "auto-restart" })
			out, _ = m.hermes("", "-p", "work", "gateway", "status")
			if !strings.Contains(out, "killed by SIGKILL") || !strings.Contains(out, "failed") {
				t.Fatalf("status of a killed gateway:\n%s", out)
			}
			m.until("systemd to restart it", 20*time.Second, func() bool {
				p := m.mainPID("", unit, false)
				return p != 0 && p != pid && m.show("", unit, "ActiveState", false) == "active"
			})
			if d := m.desired(work); d != "running" {
				t.Fatalf("after a crash restart: desired %q", d)
			}

			// Logs come from the journal.
			if out := m.must("", bins.hermes, "-p", "work", "gateway", "logs", "-n", "200"); !strings.Contains(out, upstreamgateway.LinePrefix) {
				t.Fatalf("logs:\n%s", out)
			}

			// Finding 4: a gateway that fails at once fails its start at
			// once, truthfully, and status never calls it running.
			for _, tt := range []struct {
				profile string
				args    []string
				say     string
			}{
				{"fatal", plainArgs("TESTGATEWAY_EXIT=78"), "exit"},
				{"crash", plainArgs("TESTGATEWAY_EXIT=1"), "exit"},
				{"upstream-fatal", append(upstreamArgs("upstream-fatal"), "--env", upstreamgateway.EnvExit+"=78"), "exit"},
			} {
				start := time.Now()
				out, code := m.hermes("", append([]string{"-p", tt.profile, "gateway", "install", "--system", "--run-as-user", layout.user, "--no-start"}, tt.args...)...)
				if code != 0 {
					t.Fatalf("install %s: exit %d\n%s", tt.profile, code, out)
				}
				out, code = m.hermes("", "-p", tt.profile, "gateway", "start")
				took := time.Since(start)
				if code == 0 || !strings.Contains(out, tt.say) || took > 15*time.Second {
					t.Fatalf("start of %s: exit %d after %s\n%s", tt.profile, code, took, out)
				}
				t.Logf("start of %s failed in %s: %s", tt.profile, took.Round(time.Millisecond), strings.SplitN(out, "\n", 2)[0])
				if out, code := m.hermes("", "-p", tt.profile, "gateway", "status"); code != 3 || strings.Contains(out, " running ") {
					t.Fatalf("status of %s: exit %d\n%s", tt.profile, code, out)
				}
			}

			// Finding 7: uninstall forgets the failure (the manager is
			// not left degraded), and says so when there is nothing to do.
			for _, p := range []string{"fatal", "crash", "upstream-fatal"} {
				m.must("", bins.hermes, "-p", p, "gateway", "uninstall")
			}
			if failed := m.must("", "systemctl", "list-units", "--failed", "--plain", "--no-legend"); strings.Contains(failed, "hermes") {
				t.Fatalf("failed units left:\n%s", failed)
			}
			if out := m.must("", bins.hermes, "-p", "ghost", "gateway", "uninstall"); !strings.Contains(out, "not installed") || strings.Contains(out, "uninstalled") {
				t.Fatalf("uninstall of nothing: %s", out)
			}
		})
	}
}

// TestUnitsTheInstallerMade: units of upstream's Python installer are taken
// over with a word; the pre-rename hermes.service goes, so that two
// gateways do not fight over one token.
func TestUnitsTheInstallerMade(t *testing.T) {
	m := boot(t, false)
	m.must("", "sh", "-c", `cat > /etc/systemd/system/hermes-gateway.service <<'EOF'
[Unit]
Description=Hermes Agent Gateway - Messaging Platform Integration
[Service]
Type=simple
User=`+layout.user+`
ExecStart=/usr/bin/python3 -m hermes_cli.main gateway run --replace
Restart=on-failure
[Install]
WantedBy=multi-user.target
EOF
sed 's/^Description=.*/Description=Hermes (legacy)/' /etc/systemd/system/hermes-gateway.service > /etc/systemd/system/hermes.service
systemctl daemon-reload && systemctl enable hermes.service hermes-gateway.service`)
	out := m.must("", append([]string{bins.hermes, "gateway", "install", "--system", "--run-as-user", layout.user}, plainArgs()...)...)
	if !strings.Contains(out, "taking over the unit upstream's installer wrote") || !strings.Contains(out, "hermes.service") {
		t.Fatalf("install over upstream's units:\n%s", out)
	}
	if m.file("/etc/systemd/system/hermes.service") != "" || m.show("", "hermes.service", "LoadState", false) != "not-found" {
		t.Fatal("the legacy unit is still there")
	}
	if !strings.HasPrefix(m.file("/etc/systemd/system/hermes-gateway.service"), "# Generated by hermes") ||
		m.show("", "hermes-gateway.service", "ActiveState", false) != "active" {
		t.Fatalf("hermes-gateway.service:\n%s", m.file("/etc/systemd/system/hermes-gateway.service"))
	}
}

// TestPathsSystemdMustCarry: finding 6. A home with a space, a $ and a %,
// and a hermes whose folder has a space and a $, reach the gateway as
// given: the unit runs, its working folder and HERMES_HOME are the home's.
func TestPathsSystemdMustCarry(t *testing.T) {
	m := boot(t, true)
	bin := "/opt/her mes$1 100%/bin"
	m.must("", "sh", "-c", `mkdir -p "$1" && cp /opt/hermes/bin/* "$1"/`, "sh", bin)
	home := "/srv/my home $HOME 100%"
	hermes := bin + "/hermes"
	m.must("", append([]string{hermes, "--home", home, "-p", "odd", "gateway", "install", "--system", "--run-as-user", layout.user},
		plainArgs("TESTGATEWAY_ENV=HERMES_HOME")...)...)
	unit := "hermes-gateway-odd.service"
	if out := m.must("", "systemd-analyze", "verify", "/etc/systemd/system/"+unit); strings.TrimSpace(out) != "" {
		t.Fatalf("systemd-analyze verify: %s", out)
	}
	pid := m.mainPID("", unit, false)
	cwd := strings.TrimSpace(m.must("", "readlink", fmt.Sprintf("/proc/%d/cwd", pid)))
	if want := filepath.Join(home, "profiles", "odd"); cwd != want {
		t.Fatalf("the runner's working folder %q, want %q", cwd, want)
	}
	if logs := m.must("", hermes, "--home", home, "-p", "odd", "gateway", "logs"); !strings.Contains(logs, `HERMES_HOME="`+filepath.Join(home, "profiles", "odd")+`"`) {
		t.Fatalf("the gateway's environment:\n%s", logs)
	}
	m.must("", hermes, "--home", home, "-p", "odd", "gateway", "stop")
}

// TestUserUnits: a lingering alice's own units, and root's own (--user), in
// the user managers of a system manager.
func TestUserUnits(t *testing.T) {
	m := boot(t, false)
	alice := layout.user
	home := "/home/" + alice + "/.hermes"
	dir := filepath.Join(home, "profiles", "mine")
	unit := "hermes-gateway-mine.service"
	m.must("", "loginctl", "enable-linger", alice)
	m.until("alice's manager", 10*time.Second, func() bool {
		out, _ := m.run(alice, "systemctl", "--user", "is-system-running")
		return strings.TrimSpace(out) == "running"
	})
	m.must(alice, append([]string{bins.hermes, "-p", "mine", "gateway", "install"}, upstreamArgs("mine")...)...)
	if m.show(alice, unit, "ActiveState", true) != "active" {
		t.Fatal("alice's gateway does not run")
	}
	// A reboot stops her manager, and with it the gateway: no operator's
	// stop.
	m.reboot()
	m.until("alice's gateway after the reboot", 30*time.Second, func() bool { return m.show(alice, unit, "ActiveState", true) == "active" })
	if d := m.desired(dir); d != "running" {
		t.Fatalf("after a reboot: desired %q", d)
	}
	if prev := m.must("", "journalctl", "-b", "-1", "--no-pager", "-q", "_SYSTEMD_USER_UNIT="+unit); !strings.Contains(prev, "going down: not an operator's stop") {
		t.Fatalf("the shutdown's stop, as the boot before logged it:\n%s", prev)
	}
	// Her stop lasts across a reboot too.
	m.must(alice, bins.hermes, "-p", "mine", "gateway", "stop")
	m.reboot()
	m.until("alice's manager", 10*time.Second, func() bool {
		out, _ := m.run(alice, "systemctl", "--user", "is-system-running")
		return strings.TrimSpace(out) == "running"
	})
	if a := m.show(alice, unit, "ActiveState", true); a != "inactive" || m.desired(dir) != "stopped" {
		t.Fatalf("her stopped gateway after a reboot: %s, desired %q", a, m.desired(dir))
	}
	if out := m.must(alice, bins.hermes, "-p", "mine", "gateway", "start"); !strings.Contains(out, "running, pid") {
		t.Fatalf("start: %s", out)
	}

	// Finding 7: root chooses its own user manager with --user.
	m.must("", "loginctl", "enable-linger", "root")
	m.until("root's manager", 10*time.Second, func() bool {
		_, code := m.run("", "test", "-S", "/run/user/0/systemd/private")
		return code == 0
	})
	rootEnv := []string{"env", "XDG_RUNTIME_DIR=/run/user/0"}
	m.must("", append(append(rootEnv, bins.hermes, "-p", "own", "gateway", "install", "--user"), plainArgs()...)...)
	if m.file("/root/.config/systemd/user/hermes-gateway-own.service") == "" || m.file("/etc/systemd/system/hermes-gateway-own.service") != "" {
		t.Fatal("root's --user install is not a user unit")
	}
	if out := m.must("", append(rootEnv, bins.hermes, "-p", "own", "gateway", "status", "--user")...); !strings.Contains(out, "running") {
		t.Fatalf("status --user: %s", out)
	}
}

// TestLinger: finding 5. An install that cannot confirm linger goes on
// with a warning that says what happens at logout and how to fix it; one
// that cannot reach the user's manager leaves nothing behind.
func TestLinger(t *testing.T) {
	m := boot(t, true)
	bob := layout.other
	// No manager for bob, and logind will not let him linger: the install
	// (told the backend: none is detected) fails and takes back all it did.
	out, code := m.hermes(bob, append([]string{"--backend", "systemd", "-p", "x", "gateway", "install"}, plainArgs()...)...)
	if code == 0 || !strings.Contains(out, "sudo loginctl enable-linger "+bob) {
		t.Fatalf("install without a manager: exit %d\n%s", code, out)
	}
	if left := m.must("", "sh", "-c", "ls -A /home/"+bob+"/.config/systemd/user /home/"+bob+"/.hermes 2>/dev/null; true"); strings.TrimSpace(left) != "" {
		t.Fatalf("a failed install left: %s", left)
	}
	// A manager without linger (started for a session): the install goes
	// on, and says what logout will do.
	m.must("", "systemctl", "start", fmt.Sprintf("user@%d.service", layout.otherUID))
	out = m.must(bob, append([]string{bins.hermes, "-p", "x", "gateway", "install"}, plainArgs()...)...)
	if !strings.Contains(out, "last session ends (logout)") || !strings.Contains(out, "sudo loginctl enable-linger "+bob) {
		t.Fatalf("install without linger:\n%s", out)
	}
	if m.show(bob, "hermes-gateway-x.service", "ActiveState", true) != "active" {
		t.Fatal("bob's gateway does not run")
	}
	// Without a journal, logs fail and say why.
	m.must("", "sh", "-c", "systemctl stop systemd-journald.socket systemd-journald-dev-log.socket systemd-journald.service; rm -rf /run/systemd/journal/socket /var/log/journal/* /run/log/journal/*")
	out, code = m.hermes(bob, "-p", "x", "gateway", "logs")
	if code == 0 || !strings.Contains(out, "systemd-journald is not running") {
		t.Fatalf("logs without a journal: exit %d\n%s", code, out)
	}
}
