package upstreamcli_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nousresearch/hermes-service/internal/testbin"
	"github.com/nousresearch/hermes-service/internal/upstreamcli"
)

// TestFind: the environment first, then the first hermes on PATH that is
// not ours (neither this program nor another build of this project), then
// Python's module; none is a NotFoundError with a hint.
func TestFind(t *testing.T) {
	root := t.TempDir()
	ours, err := testbin.Build(root, "github.com/nousresearch/hermes-service/cmd/hermes")
	if err != nil {
		t.Fatal(err)
	}
	dir := func(name string) string {
		d := filepath.Join(root, name)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	self, copyOfOurs, upstream, empty := dir("self"), dir("copy"), dir("upstream"), dir("empty")
	if err := os.Link(ours, filepath.Join(self, "hermes")); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(ours)
	if err := os.WriteFile(filepath.Join(copyOfOurs, "hermes"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(upstream, "hermes"), []byte("#!/bin/sh\necho upstream\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Fatal("python3 is needed (make test installs it)")
	}
	python, _ = filepath.Abs(python)
	sysPath := os.Getenv("PATH")
	tests := []struct {
		name string
		env  map[string]string
		want []string
		err  bool
	}{
		{"the environment's command line", map[string]string{"HERMES_UPSTREAM_CLI": "python3 -m hermes_cli.main", "PATH": sysPath},
			[]string{python, "-m", "hermes_cli.main"}, false},
		{"the environment names nothing", map[string]string{"HERMES_UPSTREAM_CLI": "no-such-upstream-cli", "PATH": sysPath}, nil, true},
		{"ourselves and a copy of ours are skipped", map[string]string{
			"PATH": strings.Join([]string{self, "relative/dir", copyOfOurs, upstream, sysPath}, string(os.PathListSeparator))},
			[]string{filepath.Join(upstream, "hermes")}, false},
		{"only ours, and Python has no hermes_cli", map[string]string{
			"PATH": strings.Join([]string{self, copyOfOurs, empty, sysPath}, string(os.PathListSeparator))}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := upstreamcli.Finder{Getenv: func(k string) string { return tt.env[k] }, Self: filepath.Join(self, "hermes")}.Find()
			if (err != nil) != tt.err || strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Fatalf("got %q, %v; want %q (error %v)", got, err, tt.want, tt.err)
			}
			if tt.name == "only ours, and Python has no hermes_cli" && !errors.Is(err, upstreamcli.ErrNotFound) {
				t.Fatalf("not a NotFoundError: %v", err)
			}
		})
	}
	if got := upstreamcli.GatewayRun([]string{"/u/hermes"}, "work"); strings.Join(got, " ") != "/u/hermes -p work gateway run" {
		t.Fatalf("GatewayRun: %q", got)
	}
}
