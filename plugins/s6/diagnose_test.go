//go:build linux

package s6_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

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
		// overlay, when not nil, makes an s6-overlay run folder whose
		// container_environment holds these variables.
		overlay map[string]string
		// register is the work slot's registration (default: hermes's
		// runner line naming no protocol).
		register *service.RegisterOptions
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
		// Under s6-overlay, its stop waits against the slots' drains; a
		// slot whose run line names no protocol counts as the longer drain.
		{name: "s6-overlay's default waits", svscan: true, overlay: map[string]string{}, want: []want{
			{Check: "s6 scandir", Severity: service.SeverityOK, Detail: ""},
			{Check: "s6-svscan", Severity: service.SeverityOK, Detail: ""},
			{Check: "s6-overlay stop grace", Severity: service.SeverityWarning, Detail: "S6_SERVICES_GRACETIME is unset " +
				"(s6-overlay's default, 3000 ms), shorter than the drain; S6_KILL_GRACETIME is unset (s6-overlay's default, " +
				"3000 ms), shorter than the drain; the longest drain, 60000 ms (gateway-work: protocol unknown, stop budget 90000 ms)"},
		}},
		{name: "s6-overlay's waits cover the drain", svscan: true, profiles: []string{"other"},
			overlay: map[string]string{"S6_SERVICES_GRACETIME": "90000\n", "S6_KILL_GRACETIME": "60000"}, want: []want{
				{Check: "s6 scandir", Severity: service.SeverityOK, Detail: ""},
				{Check: "s6-svscan", Severity: service.SeverityOK, Detail: ""},
				{Check: "s6-overlay stop grace", Severity: service.SeverityOK, Detail: "S6_KILL_GRACETIME=60000 (from "},
			}},
		// The plain runner's drain fits in a short budget: 15 s drains 10 s.
		{name: "s6-overlay and a short plain budget", svscan: true,
			register: &service.RegisterOptions{StopTimeout: 15 * time.Second},
			overlay:  map[string]string{"S6_SERVICES_GRACETIME": "10000", "S6_KILL_GRACETIME": "9999"}, want: []want{
				{Check: "s6 scandir", Severity: service.SeverityOK, Detail: ""},
				{Check: "s6-svscan", Severity: service.SeverityOK, Detail: ""},
				{Check: "s6-overlay stop grace", Severity: service.SeverityWarning, Detail: "shorter than the drain; " +
					"the longest drain, 10000 ms (gateway-work: protocol plain, stop budget 15000 ms)"},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tr *tree
			if tt.svscan {
				tr = newTree(t)
				c := tr.launch()
				opts := service.RegisterOptions{Command: gateway.RunnerArgv(bins.hermes, "work")}
				if tt.register != nil {
					opts = *tt.register
					opts.Command = gateway.RunnerArgv(bins.hermes, "work", gateway.FlagProtocol, gateway.ProtocolPlain,
						gateway.FlagStopTimeout, gateway.DurationText(gateway.DrainWithin(opts.StopTimeout)),
						gateway.ProgramSeparator, bins.gateway)
				}
				if err := c.Register(context.Background(), "work", opts); err != nil {
					t.Fatal(err)
				}
			} else {
				root := t.TempDir()
				tr = &tree{t: t, scandir: filepath.Join(root, "service"), home: filepath.Join(root, "home")}
			}
			if tt.setup != nil {
				tt.setup(t, tr)
			}
			if tt.overlay != nil {
				tr.overlay = filepath.Join(t.TempDir(), "s6")
				envDir := filepath.Join(tr.overlay, "container_environment")
				for _, d := range []string{filepath.Join(tr.overlay, "basedir"), envDir} {
					if err := os.MkdirAll(d, 0o755); err != nil {
						t.Fatal(err)
					}
				}
				for k, v := range tt.overlay {
					if err := os.WriteFile(filepath.Join(envDir, k), []byte(v), 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			got, err := tr.launch().Diagnose(context.Background(), service.DiagnoseOptions{Home: tr.home, Profiles: tt.profiles})
			if err != nil {
				t.Fatal(err)
			}
			plugintest.ExpectFindings(t, got, tt.want)
		})
	}
}
