package windows

import (
	"reflect"
	"testing"

	"github.com/nousresearch/hermes-service/shared/gateway"
)

func TestNamesAndArgs(t *testing.T) {
	if ServiceName("default") != "hermes-gateway" || ServiceName("work") != "hermes-gateway-work" {
		t.Fatal("service names")
	}
	s := Spec{Profile: "work", Home: `C:\Users\ada\.hermes`,
		Command: gateway.RunnerArgv(`C:\Program Files\hermes\hermes.exe`, "work"),
		Env:     map[string]string{"B": "two words", "A": `quo"te`, "C": "x=y"}}
	args := s.ServiceArgs()
	want := []string{"service", "--profile", "work", "--home", `C:\Users\ada\.hermes`,
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
