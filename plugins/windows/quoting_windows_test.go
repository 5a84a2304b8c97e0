//go:build windows

package windows

import (
	"reflect"
	"strconv"
	"syscall"
	"testing"
	"time"

	win "golang.org/x/sys/windows"

	"github.com/nousresearch/hermes-service/shared/gateway"
)

// TestNamesCommandLineRoundTrip builds each service's command line as
// mgr.CreateService does (syscall.EscapeArg on the program and every
// argument) and has Windows split it again (CommandLineToArgvW, through
// DecomposeCommandLine): every hostile value Check takes comes back as it
// was, and ParseServiceArgs reads the spec back whole.
func TestNamesCommandLineRoundTrip(t *testing.T) {
	exe := `C:\Program Files\hermes plugins\hermes-service-windows.exe`
	for _, v := range hostileValues {
		t.Run(strconv.Quote(v), func(t *testing.T) {
			s := Spec{Profile: "work", Home: `C:\Users\ada\home ` + v,
				Command: gateway.RunnerArgv(`C:\hermes `+v+`\hermes.exe`, "work", "--", `C:\bin\prog.exe`, v, ""),
				Env:     map[string]string{"GREETING": v, "EMPTY": ""}, StopTimeout: 45 * time.Second}
			if err := s.Check(exe); err != nil {
				t.Fatal(err)
			}
			args := s.ServiceArgs()
			line := syscall.EscapeArg(exe)
			for _, a := range args {
				line += " " + syscall.EscapeArg(a)
			}
			back, err := win.DecomposeCommandLine(line)
			if err != nil {
				t.Fatal(err)
			}
			if want := append([]string{exe}, args...); !reflect.DeepEqual(back, want) {
				t.Fatalf("%s came back as\n%q, want\n%q", line, back, want)
			}
			spec, err := ParseServiceArgs(back[2:])
			s.Env = map[string]string{} // kept in EnvFile, not in the line
			if err != nil || !reflect.DeepEqual(spec, s) {
				t.Fatalf("read back %+v (%v), want %+v", spec, err, s)
			}
		})
	}
}
