package windows

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nousresearch/hermes-service/shared/gateway"
	"github.com/nousresearch/hermes-service/shared/service"
)

func TestNamesAndArgs(t *testing.T) {
	if ServiceName("default") != "hermes-gateway" || ServiceName("work") != "hermes-gateway-work" {
		t.Fatal("service names")
	}
	s := Spec{Profile: "work", Home: `C:\Users\ada\.hermes`,
		Command: gateway.RunnerArgv(`C:\Program Files\hermes\hermes.exe`, "work"),
		Env:     map[string]string{"B": "two words", "A": `quo"te`, "C": "x=y", "TOKEN": "secret%PATH%"}, StopTimeout: 2 * time.Minute,
		StartAtBoot: true}
	args := s.ServiceArgs()
	// The environment stays off the command line (EnvFile holds it).
	want := []string{"service", "--profile", "work", "--home", `C:\Users\ada\.hermes`, "--stop-timeout", "120s", "--start-at-boot",
		"--", `C:\Program Files\hermes\hermes.exe`, "-p", "work", "gateway", "run"}
	if !reflect.DeepEqual(args, want) {
		t.Fatalf("%q", args)
	}
	back, err := ParseServiceArgs(args[1:])
	s.Env = map[string]string{}
	if err != nil || !reflect.DeepEqual(back, s) {
		t.Fatalf("%+v %v", back, err)
	}
	// A service made before EnvFile carried --env in its command line; it
	// still reads back.
	old, err := ParseServiceArgs([]string{"--profile", "work", "--home", `C:\h`, "--env", "A=1", "--", `C:\hermes.exe`, "gateway", "run"})
	if err != nil || old.Env["A"] != "1" || old.StartAtBoot {
		t.Fatalf("a service with --env: %+v %v", old, err)
	}
	for _, bad := range [][]string{{"--profile"}, {"--profile", "Bad"}, {"--profile", "w"}, {"--x", "y"}, {"--profile", "w", "--home", "h", "--env", "noeq", "--", "x"}, {"--profile", "w", "--home", "h", "--"}} {
		if _, err := ParseServiceArgs(bad); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

func TestStartTypeAndExits(t *testing.T) {
	if k, d := startType(true); k != startAutomatic || !d {
		t.Fatal("start on login: automatic, delayed")
	}
	if k, d := startType(false); k != startManual || d {
		t.Fatal("no start on login: manual")
	}
	for code, stopped := range map[int]bool{0: true, 78: true, 1: false, 75: false, 3: false} {
		if RunExit(code) != stopped {
			t.Errorf("exit %d", code)
		}
	}
}

// TestPersistedStartType: an operator's stop leaves the service manual,
// so Windows does not start it at the next boot; a start gives back the
// type the operator installed.
func TestPersistedStartType(t *testing.T) {
	for _, tt := range []struct {
		atBoot, stopped bool
		want            uint32
	}{
		{true, false, startAutomatic},
		{true, true, startManual},
		{false, false, startManual},
		{false, true, startManual},
	} {
		if got := PersistedStartType(tt.atBoot, tt.stopped); got != tt.want {
			t.Errorf("at boot %v, stopped %v: %d, want %d", tt.atBoot, tt.stopped, got, tt.want)
		}
	}
}

// TestServiceArgsStopTimeout: the stop budget travels in the service's
// command line for the wrapper; none chosen is gateway.StopBudget, and a
// service made before the flag existed reads back with it too.
func TestServiceArgsStopTimeout(t *testing.T) {
	for _, tt := range []struct {
		budget time.Duration
		text   string
		want   time.Duration
	}{
		{0, "90s", gateway.StopBudget},
		{gateway.StopBudget, "90s", gateway.StopBudget},
		{gateway.MinStopBudget, "10s", gateway.MinStopBudget},
		{gateway.MaxStopBudget, "3600s", gateway.MaxStopBudget},
		{1500 * time.Millisecond, "1.5s", 1500 * time.Millisecond},
	} {
		s := Spec{Profile: "work", Home: `C:\h`, Command: []string{`C:\hermes.exe`, "gateway", "run"}, StopTimeout: tt.budget}
		args := s.ServiceArgs()
		if args[5] != "--stop-timeout" || args[6] != tt.text {
			t.Errorf("%s: args %q", tt.budget, args)
		}
		back, err := ParseServiceArgs(args[1:])
		if err != nil || back.StopTimeout != tt.want {
			t.Errorf("%s: read back %s (%v), want %s", tt.budget, back.StopTimeout, err, tt.want)
		}
	}
	old, err := ParseServiceArgs([]string{"--profile", "work", "--home", `C:\h`, "--", `C:\hermes.exe`, "gateway", "run"})
	if err != nil || old.StopTimeout != gateway.StopBudget {
		t.Fatalf("a service without --stop-timeout: %s %v", old.StopTimeout, err)
	}
	for _, bad := range []string{"0s", "-5s", "soon"} {
		if _, err := ParseServiceArgs([]string{"--profile", "w", "--home", "h", "--stop-timeout", bad, "--", "x"}); err == nil {
			t.Errorf("accepted --stop-timeout %q", bad)
		}
	}
}

// hostileValues are what a home, an argument or an environment value may
// hold that a command line would otherwise split, unquote or expand.
var hostileValues = []string{
	"$(touch PWNED)", "`touch PWNED2`", "}", `"`, "'", `\`, `\\`, `a\"b`, `trail\`, `"quoted"`, "with space", " lead", "trail ",
	"new\nline", "tab\there", "$HOME", "ünïcödé 日本語", "", "-lead", "--", "^&|<>", "!VAR!", `C:\Program Files\x\`,
}

// TestNamesCheck: Check takes every hostile value but those the SCM's
// command line cannot keep as given (a %, which it expands, text that is
// not UTF-8, a NUL), refused as invalid options naming their source. The
// environment is off the command line: a % is its own there, and only what
// Windows text cannot hold is refused.
func TestNamesCheck(t *testing.T) {
	spec := func() Spec {
		return Spec{Profile: "work", Home: `C:\Users\ada\.hermes`, Command: gateway.RunnerArgv(`C:\hermes\hermes.exe`, "work")}
	}
	for _, v := range hostileValues {
		s := spec()
		s.Home += v
		s.Env = map[string]string{"GREETING": v}
		s.Command = append(s.Command, v)
		if err := s.Check(`C:\plugins\hermes-service-windows.exe`); err != nil {
			t.Errorf("%q refused: %v", v, err)
		}
	}
	for _, v := range []string{"100%", "%PATH%", "%", "a%PATH%b"} {
		s := spec()
		s.Env = map[string]string{"GREETING": v}
		if err := s.Check(`C:\plugins\hermes-service-windows.exe`); err != nil {
			t.Errorf("env %q refused: %v", v, err)
		}
	}
	for _, bad := range []string{"100%", "%PATH%", "%", "a\xffb", "nul\x00"} {
		for _, tt := range []struct {
			option string
			edit   func(*Spec) string
		}{
			{"home", func(s *Spec) string { s.Home += bad; return "" }},
			{"env", func(s *Spec) string {
				if strings.Contains(bad, "%") {
					s.Env = map[string]string{"GREETING": "a\xffb"} // a % is fine there
				} else {
					s.Env = map[string]string{"GREETING": bad}
				}
				return ""
			}},
			{"command", func(s *Spec) string { s.Command = append(s.Command, bad); return "" }},
			{"command", func(s *Spec) string { return `C:\plugins ` + bad + `\hermes-service-windows.exe` }},
		} {
			s := spec()
			exe := tt.edit(&s)
			if exe == "" {
				exe = `C:\plugins\hermes-service-windows.exe`
			}
			err := s.Check(exe)
			var inv *service.InvalidOptionError
			if !errors.As(err, &inv) || inv.Option != tt.option {
				t.Errorf("%q in the %s: %v", bad, tt.option, err)
			}
		}
	}
}
