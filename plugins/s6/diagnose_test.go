//go:build linux

package s6_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nousresearch/hermes-service/shared/gateway"
	"github.com/nousresearch/hermes-service/shared/service"
)

// want is one expected finding: its check, severity, and a part of its
// detail.
type want struct {
	check    string
	severity service.Severity
	detail   string
}

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
			{"s6 scandir", service.SeverityOK, "is writable"},
			{"s6-svscan", service.SeverityOK, "s6-svscan listens on"},
		}},
		{name: "no s6-svscan", want: []want{
			{"s6 scandir", service.SeverityOK, "is writable"},
			{"s6-svscan", service.SeverityError, "no s6-svscan listens on"},
		}},
		{name: "scandir not writable", setup: func(t *testing.T, tr *tree) {
			if err := os.WriteFile(filepath.Join(filepath.Dir(tr.scandir), "file"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			tr.scandir = filepath.Join(filepath.Dir(tr.scandir), "file", "service")
		}, want: []want{
			{"s6 scandir", service.SeverityError, "is not writable: not a directory"},
			{"s6-svscan", service.SeverityError, "no s6-svscan listens on"},
		}},
		{name: "skeleton mode changed", svscan: true, setup: func(t *testing.T, tr *tree) {
			if err := os.Chmod(filepath.Join(tr.slot("work"), "log", "event"), 0o755); err != nil {
				t.Fatal(err)
			}
		}, want: []want{
			{"s6 scandir", service.SeverityOK, ""},
			{"s6-svscan", service.SeverityOK, ""},
			{"slot gateway-work", service.SeverityError, "log/event has mode drwxr-xr-x, want dgtrwx-wx---"},
		}},
		{name: "skeleton missing, other profile asked about", svscan: true, profiles: []string{"other"}, setup: func(t *testing.T, tr *tree) {
			if err := os.Remove(filepath.Join(tr.slot("work"), "supervise", "control")); err != nil {
				t.Fatal(err)
			}
		}, want: []want{
			{"s6 scandir", service.SeverityOK, ""},
			{"s6-svscan", service.SeverityOK, ""},
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
			if len(got) != len(tt.want) {
				t.Fatalf("got %d findings, want %d: %+v", len(got), len(tt.want), got)
			}
			for i, w := range tt.want {
				g := got[i]
				if g.Check != w.check || g.Severity != w.severity || !strings.Contains(g.Detail, w.detail) {
					t.Errorf("finding %d: %+v, want %+v", i, g, w)
				}
				if (g.Severity == service.SeverityError) != (g.Fix != "") {
					t.Errorf("finding %d: a problem needs a fix, and only a problem: %+v", i, g)
				}
			}
		})
	}
}
