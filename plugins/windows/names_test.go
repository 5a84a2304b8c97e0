package windows

import (
	"reflect"
	"testing"
	"time"

	"github.com/nousresearch/hermes-service/shared/gateway"
)

func TestNamesAndArgs(t *testing.T) {
	if ServiceName("default") != "hermes-gateway" || ServiceName("work") != "hermes-gateway-work" {
		t.Fatal("service names")
	}
	s := Spec{Profile: "work", Home: `C:\Users\ada\.hermes`,
		Command: gateway.RunnerArgv(`C:\Program Files\hermes\hermes.exe`, "work"),
		Env:     map[string]string{"B": "two words", "A": `quo"te`, "C": "x=y"}, StopTimeout: 2 * time.Minute}
	args := s.ServiceArgs()
	want := []string{"service", "--profile", "work", "--home", `C:\Users\ada\.hermes`, "--stop-timeout", "120s",
		"--env", `A=quo"te`, "--env", "B=two words", "--env", "C=x=y",
		"--", `C:\Program Files\hermes\hermes.exe`, "-p", "work", "gateway", "run"}
	if !reflect.DeepEqual(args, want) {
		t.Fatalf("%q", args)
	}
	back, err := ParseServiceArgs(args[1:])
	if err != nil || !reflect.DeepEqual(back, s) {
		t.Fatalf("%+v %v", back, err)
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
