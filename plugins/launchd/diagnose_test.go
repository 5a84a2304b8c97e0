package launchd

import (
	"context"
	"testing"

	"github.com/nousresearch/hermes-service/internal/fakecmd"
	"github.com/nousresearch/hermes-service/shared/service"
)

func TestDiagnose(t *testing.T) {
	managername := func(session string) fakecmd.Reply {
		return fakecmd.Reply{Argv: []string{"launchctl", "managername"}, Stdout: session + "\n"}
	}
	tests := []struct {
		name    string
		root    bool
		replies []fakecmd.Reply
		want    service.Finding
	}{
		{name: "GUI session", replies: []fakecmd.Reply{managername("Aqua")},
			want: service.Finding{Check: "launchd domain", Severity: service.SeverityOK, Detail: "gui/501 (session Aqua)"}},
		{name: "background session", replies: []fakecmd.Reply{managername("Background"),
			{Argv: []string{"launchctl", "print", "gui/501"}, Exit: 113, Stderr: "Could not find domain for user gui: 501"}},
			want: service.Finding{Check: "launchd domain", Severity: service.SeverityOK, Detail: "user/501 (session Background)"}},
		{name: "root", root: true, replies: []fakecmd.Reply{managername("Background")},
			want: service.Finding{Check: "launchd domain", Severity: service.SeverityOK, Detail: "system (session Background)"}},
		{name: "launchctl fails", replies: []fakecmd.Reply{{Argv: []string{"launchctl", "managername"}, Exit: 1, Stderr: "not on a Mac"}},
			want: service.Finding{Check: "launchd domain", Severity: service.SeverityError,
				Detail: "launchctl managername failed (exit code 1): not on a Mac", Fix: "run hermes on macOS, in the user's session"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, tools, _ := mac(t, tt.root)
			_ = tools.Set(tt.replies...)
			got, err := b.Diagnose(context.Background(), service.DiagnoseOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0] != tt.want {
				t.Fatalf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}
