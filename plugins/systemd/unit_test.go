package systemd

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-systemd/v22/unit"

	"github.com/nousresearch/hermes-service/shared/backend"
	"github.com/nousresearch/hermes-service/shared/gateway"
)

// hostileEnv holds values systemd's quoting must carry through intact.
var hostileEnv = map[string]string{
	"SPACES":    "a value with spaces",
	"QUOTES":    `it's "quoted"`,
	"PERCENT":   "100% %h %i",
	"DOLLAR":    "$HOME ${USER} $$",
	"BACKSLASH": `C:\path\to\ \\ end\`,
	"EQUALS":    "a=b=c",
	"NEWLINE":   "line one\nline two",
	"EMPTY":     "",
}

func fakeHermes(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "bin dir", "hermes")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func specs(t *testing.T) map[string]unitSpec {
	hermes := fakeHermes(t)
	home := t.TempDir()
	return map[string]unitSpec{
		"default, user":     {Profile: "default", Command: gateway.RunnerArgv(hermes, "default"), Home: home, ProfileDir: home},
		"named, user":       {Profile: "work", Command: gateway.RunnerArgv(hermes, "work"), Home: home, ProfileDir: filepath.Join(home, "profiles", "work")},
		"named, system":     {Profile: "work", Command: gateway.RunnerArgv(hermes, "work"), Home: home, ProfileDir: filepath.Join(home, "profiles", "work"), System: true, User: "daemon", Group: "daemon", UserHome: "/usr/sbin"},
		"default, system":   {Profile: "default", Command: gateway.RunnerArgv(hermes, "default"), Home: home, ProfileDir: home, System: true, User: "root", Group: "root", UserHome: "/root"},
		"hostile env, user": {Profile: "work", Command: gateway.RunnerArgv(hermes, "work"), Home: home, ProfileDir: filepath.Join(home, "profiles", "work"), Env: hostileEnv},
		"a 2m stop budget, user": {Profile: "work", Command: gateway.RunnerArgv(hermes, "work", "--stop-timeout", "90s"), Home: home,
			ProfileDir: filepath.Join(home, "profiles", "work"), StopTimeout: 2 * time.Minute},
		"hostile env, system": {Profile: "work-2", Command: gateway.RunnerArgv(hermes, "work-2"), Home: home, ProfileDir: filepath.Join(home, "profiles", "work-2"),
			Env: hostileEnv, System: true, User: "daemon", Group: "daemon", UserHome: "/usr/sbin"},
	}
}

// TestUnitsPassSystemdAnalyze has systemd itself check every rendered unit;
// a warning counts as a failure.
func TestUnitsPassSystemdAnalyze(t *testing.T) {
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Fatal("systemd-analyze is missing (Debian package systemd; make test installs it)")
	}
	for name, spec := range specs(t) {
		t.Run(name, func(t *testing.T) {
			data, err := spec.render()
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			path := filepath.Join(dir, UnitName(spec.Profile))
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			args := []string{"verify", path}
			env := os.Environ()
			if !spec.System {
				runtime := t.TempDir()
				args = append([]string{"--user"}, args...)
				env = append(env, "XDG_RUNTIME_DIR="+runtime)
			}
			cmd := exec.Command("systemd-analyze", args...)
			cmd.Env = env
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Run(); err != nil || stderr.Len() > 0 {
				t.Fatalf("systemd-analyze %v: %v\n%s\nunit:\n%s", args, err, stderr.String(), data)
			}
		})
	}
}

func TestUnitsReadBack(t *testing.T) {
	for name, spec := range specs(t) {
		t.Run(name, func(t *testing.T) {
			data, err := spec.render()
			if err != nil {
				t.Fatal(err)
			}
			back, err := unit.Deserialize(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if !unit.AllMatch(back, spec.options()) {
				t.Fatalf("read back differently:\n%s", data)
			}
			// Every variable comes back as the gateway will see it.
			got := map[string]string{}
			for _, o := range back {
				if o.Section == "Service" && o.Name == "Environment" {
					for _, w := range splitQuoted(o.Value) {
						k, v, _ := strings.Cut(strings.ReplaceAll(w, "%%", "%"), "=")
						got[k] = v
					}
				}
			}
			for k, v := range spec.Env {
				if got[k] != v {
					t.Errorf("%s: %q came back as %q", k, v, got[k])
				}
			}
			if got["HERMES_HOME"] != spec.Home || got["HERMES_SUPERVISED_CHILD"] != "1" {
				t.Errorf("HERMES_HOME %q, HERMES_SUPERVISED_CHILD %q", got["HERMES_HOME"], got["HERMES_SUPERVISED_CHILD"])
			}
			if unitHome(data) != spec.Home {
				t.Errorf("unitHome = %q", unitHome(data))
			}
			text := string(data)
			for _, want := range []string{"Restart=always", "RestartSec=5", "RestartForceExitStatus=75", "SuccessExitStatus=75",
				"RestartPreventExitStatus=78", "StartLimitIntervalSec=0", "KillMode=mixed",
				"TimeoutStopSec=" + gateway.Seconds(gateway.StopBudgetOf(spec.StopTimeout)),
				"gateway mark-stop --unless-shutdown ", " --pid $MAINPID", "WorkingDirectory="} {
				if !strings.Contains(text, want) {
					t.Errorf("unit lacks %q", want)
				}
			}
			if spec.System != strings.Contains(text, "WantedBy=multi-user.target") || spec.System == strings.Contains(text, "WantedBy=default.target") {
				t.Errorf("wrong WantedBy:\n%s", text)
			}
			if spec.System && (!strings.Contains(text, "User="+spec.User) || !strings.Contains(text, "After=network-online.target") || !strings.Contains(text, "Wants=network-online.target")) {
				t.Errorf("system unit lacks user or network ordering:\n%s", text)
			}
		})
	}
}

func TestInstallScope(t *testing.T) {
	b := New(Config{Settings: backend.Settings{Home: "/h"}, UserUnitDir: "/u", SystemUnitDir: "/s"})
	if s, err := b.installScope(serviceInstall(false), "work"); err != nil || s.system {
		t.Fatalf("user install: %v %v", s, err)
	}
	_, err := b.installScope(serviceInstall(true), "work")
	if err == nil || !strings.Contains(err.Error(), "permission denied") || !strings.Contains(hint(err), "sudo hermes -p work gateway install --system") {
		t.Fatalf("system install as a user: %v (%s)", err, hint(err))
	}
	b.cfg.Root = true
	if s, err := b.installScope(serviceInstall(false), "work"); err != nil || !s.system {
		t.Fatalf("root installs system units: %v %v", s, err)
	}
}

func TestParseShow(t *testing.T) {
	// systemctl show prints Key=Value lines in its own property order, one
	// block per unit, blocks separated by an empty line (systemctl(1),
	// "show"; the properties are org.freedesktop.systemd1's).
	out := "Id=hermes-gateway-work.service\nMainPID=4242\nExecMainStatus=0\nNRestarts=3\nLoadState=loaded\n" +
		"ActiveState=active\nSubState=running\nUnitFileState=enabled\nStateChangeTimestamp=Wed 2026-11-25 10:00:00.500000 UTC\n\n" +
		"Id=hermes-gateway.service\nMainPID=0\nExecMainStatus=78\nNRestarts=0\nLoadState=loaded\nActiveState=failed\n" +
		"SubState=failed\nUnitFileState=disabled\nStateChangeTimestamp=\n"
	blocks := parseShow(out)
	if len(blocks) != 2 || blocks[0]["MainPID"] != "4242" || blocks[1]["ActiveState"] != "failed" {
		t.Fatalf("%v", blocks)
	}
	if ts, ok := parseTimestamp(blocks[0]["StateChangeTimestamp"]); !ok || ts.Hour() != 10 {
		t.Fatalf("timestamp %v %v", ts, ok)
	}
	if _, ok := parseTimestamp(""); ok {
		t.Fatal("empty timestamp parsed")
	}
}

// TestUnitStopTimeout: the operator's stop budget is TimeoutStopSec, in
// whole seconds; none chosen is gateway.StopBudget, as before.
func TestUnitStopTimeout(t *testing.T) {
	hermes := fakeHermes(t)
	home := t.TempDir()
	for _, tt := range []struct {
		budget time.Duration
		want   string
	}{
		{0, "TimeoutStopSec=90"},
		{gateway.StopBudget, "TimeoutStopSec=90"},
		{gateway.MinStopBudget, "TimeoutStopSec=10"},
		{2 * time.Minute, "TimeoutStopSec=120"},
		{gateway.MaxStopBudget, "TimeoutStopSec=3600"},
	} {
		spec := unitSpec{Profile: "work", Command: gateway.RunnerArgv(hermes, "work"), Home: home, ProfileDir: home, StopTimeout: tt.budget}
		data, err := spec.render()
		if err != nil {
			t.Fatal(err)
		}
		back, err := unit.Deserialize(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, o := range back {
			if o.Section == "Service" && o.Name == "TimeoutStopSec" {
				got = append(got, o.Name+"="+o.Value)
			}
		}
		if len(got) != 1 || got[0] != tt.want {
			t.Errorf("stop timeout %s: %q, want %q", tt.budget, got, tt.want)
		}
	}
}
