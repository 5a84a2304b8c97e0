package launchd

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nousresearch/hermes-service/internal/fakecmd"
	"github.com/nousresearch/hermes-service/shared/gateway"
	"github.com/nousresearch/hermes-service/shared/service"
)

// TestInstallStopTimeout: the stop timeout chosen at install is the job's
// ExitTimeOut, in whole seconds, as the plist reads back (here and in
// Python's plistlib); none chosen is gateway.StopBudget. A plain runner's
// child timeout stays on its line, before the gateway program.
func TestInstallStopTimeout(t *testing.T) {
	b, tools, hermes := mac(t, false)
	ctx := context.Background()
	_ = tools.Set(fakecmd.Reply{Argv: []string{"launchctl", "managername"}, Stdout: "Aqua\n"},
		fakecmd.Reply{Argv: []string{"launchctl", "print", "**"}, Exit: 113})
	plist := filepath.Join(b.cfg.AgentsDir, "ai.hermes.gateway.work.plist")
	for _, tt := range []struct {
		budget time.Duration
		want   int
	}{
		{0, 90},
		{gateway.StopBudget, 90},
		{2 * time.Minute, 120},
		{gateway.MinStopBudget, 10},
		{gateway.MaxStopBudget, 3600},
	} {
		argv := gateway.RunnerArgv(hermes, "work", gateway.FlagStopTimeout, gateway.DurationText(gateway.DrainWithin(tt.budget)),
			gateway.FlagProtocol, gateway.ProtocolPlain, gateway.ProgramSeparator, "/bin/gw")
		if err := b.Install(ctx, "work", service.InstallOptions{Force: true, Command: argv, StopTimeout: tt.budget}); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(plist)
		if err != nil {
			t.Fatal(err)
		}
		j, err := decode(data)
		if err != nil || j.ExitTimeOut != tt.want {
			t.Errorf("stop timeout %s: ExitTimeOut %d (%v), want %d", tt.budget, j.ExitTimeOut, err, tt.want)
		}
		wantArgs := "-p work gateway run --stop-timeout " + gateway.DurationText(gateway.DrainWithin(tt.budget)) +
			" --protocol plain --fatal-exit-code 0 -- /bin/gw"
		if got := strings.Join(j.ProgramArguments[1:], " "); got != wantArgs {
			t.Errorf("stop timeout %s: arguments %q, want %q", tt.budget, got, wantArgs)
		}
		out, err := exec.Command("python3", "-c",
			`import plistlib,sys,json; print(json.dumps(plistlib.load(open(sys.argv[1],"rb"))["ExitTimeOut"]))`, plist).Output()
		var py int
		if err != nil || json.Unmarshal(out, &py) != nil || py != tt.want {
			t.Errorf("stop timeout %s: plistlib read ExitTimeOut %s (%v), want %d", tt.budget, out, err, tt.want)
		}
	}
}
