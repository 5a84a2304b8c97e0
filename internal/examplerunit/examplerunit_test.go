package examplerunit

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nousresearch/hermes-service/internal/testbin"
)

// markerWrite is the argument of the example's Stop that makes
// OperatorStop write the marker: the supervised pid. The mutant passes 0,
// "nothing runs", so no marker is written and the signal still is.
const (
	markerWrite = "b.OperatorStop(profile, b.read(profile).running(),"
	noMarker    = "b.OperatorStop(profile, 0,"
)

func TestMarkerRemovedFailsTheLifecycleTier(t *testing.T) {
	if _, err := exec.LookPath("runsvdir"); err != nil {
		t.Fatal("runit is not installed: run make deps (apt-get install --no-install-recommends runit)")
	}
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	// The plugin runs from a folder the trust checks accept, as a user's would.
	work, err := testbin.TrustedTemp("example-runit-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(work) })
	mutant := filepath.Join(work, "runit")
	if err := os.CopyFS(mutant, os.DirFS(filepath.Join(repo, "examples", "runit"))); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(mutant, "runit.go")
	mutate(t, src, markerWrite, noMarker)
	mutate(t, filepath.Join(mutant, "go.mod"), "=> ../..", "=> "+repo)
	if err := os.Chmod(filepath.Join(mutant, "hook.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	plugins := filepath.Join(work, "plugins")
	build := exec.Command("go", "build", "-o", filepath.Join(plugins, "hermes-service-runit"), "./cmd/hermes-service-runit")
	build.Dir, build.Env = mutant, append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the mutant: %v\n%s", err, out)
	}
	hermes, err := testbin.Build(work, "github.com/nousresearch/hermes-service/cmd/hermes")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	check := exec.Command(hermes, "gateway", "plugins", "check", "--lifecycle", filepath.Join(mutant, "hook.sh"),
		filepath.Join(plugins, "hermes-service-runit"))
	check.Stdout, check.Stderr = &out, &out
	err = check.Run()
	t.Logf("hermes gateway plugins check --lifecycle on the mutant:\n%s", out.String())
	var ee *exec.ExitError
	if err == nil || !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("the mutant's check: %v, want exit 1", err)
	}
	for _, want := range []string{
		"  PASS  lifecycle: install or register runs the gateway, under both protocols",
		"  PASS  lifecycle: restart is a planned stop, then a start",
		"  FAIL  lifecycle: stop records stopped, is planned, and the gateway is down",
		"took the operator's stop as one from outside",
		"  PASS  lifecycle: the supervisor tears down, nothing left running",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the report lacks %q", want)
		}
	}
}

// mutate replaces old, which must occur exactly once in file, with new.
func mutate(t *testing.T, file, old, new string) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(data), old); n != 1 {
		t.Fatalf("%s holds %q %d times, want once: the mutation no longer fits the example", file, old, n)
	}
	if err := os.WriteFile(file, []byte(strings.Replace(string(data), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}
