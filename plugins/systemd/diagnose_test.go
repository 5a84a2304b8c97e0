package systemd

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/nousresearch/hermes-service/shared/gateway"
	"github.com/nousresearch/hermes-service/shared/plugintest"
	"github.com/nousresearch/hermes-service/shared/service"
)

func TestDiagnose(t *testing.T) {
	// A home and a hermes whose paths need quoting in a unit: spaces,
	// specifiers, dollars and quotes must not read as drift.
	const (
		home   = `/srv/my home/50% "hermes"`
		hermes = `/opt/my hermes/bin $1/hermes`
	)
	type want = plugintest.Finding
	ok := func(check string) want { return want{Check: check, Severity: service.SeverityOK, Detail: ""} }
	userOK := []want{ok("systemd linger"), ok("systemd user manager")}
	unitFor := func(profile, home, hermes string) []byte {
		data, err := unitSpec{Profile: profile, Command: gateway.RunnerArgv(hermes, profile), Home: home, ProfileDir: home}.render()
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	tests := []struct {
		name     string
		root     bool
		noLinger bool
		noUser   bool // no user manager socket
		user     map[string][]byte
		system   map[string][]byte
		hermes   string
		profiles []string
		want     []want
	}{
		{name: "nothing installed", want: userOK},
		{name: "root has no user checks", root: true},
		{name: "user scope not ready", noLinger: true, noUser: true, want: []want{
			{Check: "systemd linger", Severity: service.SeverityError, Detail: "tester does not linger"},
			{Check: "systemd user manager", Severity: service.SeverityError, Detail: "no user manager at"}}},
		{name: "units of this home and hermes", hermes: hermes,
			user:   map[string][]byte{"hermes-gateway-work.service": unitFor("work", home, hermes)},
			system: map[string][]byte{"hermes-gateway.service": unitFor("default", home, hermes)},
			want:   append(userOK, ok("unit hermes-gateway.service"), ok("unit hermes-gateway-work.service"))},
		{name: "drifted hermes", hermes: "/usr/bin/hermes",
			user: map[string][]byte{"hermes-gateway-work.service": unitFor("work", home, hermes)},
			want: append(userOK, want{Check: "unit hermes-gateway-work.service", Severity: service.SeverityError,
				Detail: "drifted: its ExecStart runs " + hermes + ", not this hermes (/usr/bin/hermes)"})},
		{name: "no hermes given: no drift check", user: map[string][]byte{"hermes-gateway-work.service": unitFor("work", home, hermes)},
			want: append(userOK, ok("unit hermes-gateway-work.service"))},
		{name: "another home's units are not ours", hermes: hermes, user: map[string][]byte{
			"hermes-gateway-a.service": unitFor("a", home+"2", "/elsewhere/hermes"),
			"hermes-gateway-b.service": unitFor("b", "/srv/my", "/elsewhere/hermes"),
		}, want: userOK},
		{name: "only the profiles asked about", hermes: "/usr/bin/hermes", profiles: []string{"work"}, user: map[string][]byte{
			"hermes-gateway.service":       unitFor("default", home, hermes),
			"hermes-gateway-work.service":  unitFor("work", home, "/usr/bin/hermes"),
			"hermes-gateway-other.service": unitFor("other", home, hermes),
		}, want: append(userOK, ok("unit hermes-gateway-work.service"))},
		{name: "unparsable unit", user: map[string][]byte{"hermes-gateway.service": []byte("[Service]\nnot an option\n")},
			want: append(userOK, want{Check: "unit hermes-gateway.service", Severity: service.SeverityWarning, Detail: "cannot parse it"})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, _, _ := userBackend(t)
			b.cfg.Home, b.cfg.Root = home, tt.root
			root := filepath.Dir(b.cfg.UserUnitDir)
			runtime := filepath.Join(root, "run")
			t.Setenv("XDG_RUNTIME_DIR", runtime)
			if !tt.noUser {
				writeFiles(t, filepath.Join(runtime, "systemd"), map[string][]byte{"private": nil})
			}
			if !tt.noLinger {
				writeFiles(t, b.cfg.LingerDir, map[string][]byte{"tester": nil})
			}
			writeFiles(t, b.cfg.UserUnitDir, tt.user)
			writeFiles(t, b.cfg.SystemUnitDir, tt.system)
			got, err := b.Diagnose(context.Background(), service.DiagnoseOptions{Home: home, Hermes: tt.hermes, Profiles: tt.profiles})
			if err != nil {
				t.Fatal(err)
			}
			plugintest.ExpectFindings(t, got, tt.want)
		})
	}
}

func writeFiles(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
