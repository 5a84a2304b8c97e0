//go:build linux

package s6_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/nousresearch/hermes-service/shared/gateway"
	"github.com/nousresearch/hermes-service/shared/plugintest"
	"github.com/nousresearch/hermes-service/shared/service"
)

// want is one expected finding: its check, severity, and a part of its
// detail.
type want = plugintest.Finding

func TestDiagnose(t *testing.T) {
	tests := []struct {
		name string
		// svscan runs s6-svscan on the scandir.
		svscan bool
		// setup breaks something, given the tree with a slot for work
		// registered when svscan runs.
		setup    func(t *testing.T, tr *tree)
		profiles []string
		want     []want
	}{
		{name: "healthy", svscan: true, want: []want{
			{Check: "s6 scandir", Severity: service.SeverityOK, Detail: "is writable"},
			{Check: "s6-svscan", Severity: service.SeverityOK, Detail: "s6-svscan listens on"},
		}},
		{name: "no s6-svscan", want: []want{
			{Check: "s6 scandir", Severity: service.SeverityOK, Detail: "is writable"},
			{Check: "s6-svscan", Severity: service.SeverityError, Detail: "no s6-svscan listens on"},
		}},
		{name: "scandir not writable", setup: func(t *testing.T, tr *tree) {
			if err := os.WriteFile(filepath.Join(filepath.Dir(tr.scandir), "file"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			tr.scandir = filepath.Join(filepath.Dir(tr.scandir), "file", "service")
		}, want: []want{
			{Check: "s6 scandir", Severity: service.SeverityError, Detail: "is not writable: not a directory"},
			{Check: "s6-svscan", Severity: service.SeverityError, Detail: "no s6-svscan listens on"},
		}},
		{name: "skeleton mode changed", svscan: true, setup: func(t *testing.T, tr *tree) {
			if err := os.Chmod(filepath.Join(tr.slot("work"), "log", "event"), 0o755); err != nil {
				t.Fatal(err)
			}
		}, want: []want{
			{Check: "s6 scandir", Severity: service.SeverityOK, Detail: ""},
			{Check: "s6-svscan", Severity: service.SeverityOK, Detail: ""},
			{Check: "slot gateway-work", Severity: service.SeverityError, Detail: "log/event has mode drwxr-xr-x, want dgtrwx-wx---"},
		}},
		{name: "skeleton missing, other profile asked about", svscan: true, profiles: []string{"other"}, setup: func(t *testing.T, tr *tree) {
			if err := os.Remove(filepath.Join(tr.slot("work"), "supervise", "control")); err != nil {
				t.Fatal(err)
			}
		}, want: []want{
			{Check: "s6 scandir", Severity: service.SeverityOK, Detail: ""},
			{Check: "s6-svscan", Severity: service.SeverityOK, Detail: ""},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tr *tree
			if tt.svscan {
				tr = newTree(t)
				c := tr.launch()
				if err := c.Register(context.Background(), "work", service.RegisterOptions{Command: gateway.RunnerArgv(bins.hermes, "work")}); err != nil {
					t.Fatal(err)
				}
			} else {
				root := t.TempDir()
				tr = &tree{t: t, scandir: filepath.Join(root, "service"), home: filepath.Join(root, "home")}
			}
			if tt.setup != nil {
				tt.setup(t, tr)
			}
			got, err := tr.launch().Diagnose(context.Background(), service.DiagnoseOptions{Home: tr.home, Profiles: tt.profiles})
			if err != nil {
				t.Fatal(err)
			}
			plugintest.ExpectFindings(t, got, tt.want)
		})
	}
}
