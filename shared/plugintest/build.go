package plugintest

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// HermesPackage is hermes's main package: the binary the lifecycle tier's
// services run.
const HermesPackage = "github.com/nousresearch/hermes-service/cmd/hermes"

// Build builds the main package pkg (an import path, or a ./relative one
// of the test's module) into a folder of the test's and returns the
// binary's path, named name (".exe" added on Windows).
func Build(t testing.TB, pkg, name string) string {
	t.Helper()
	if runtime.GOOS == "windows" && !strings.HasSuffix(name, ".exe") {
		name += ".exe"
	}
	out := filepath.Join(t.TempDir(), name)
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, msg)
	}
	return out
}

// BuildHermes builds hermes from the SDK's module, the version the test's
// module requires: the runner the lifecycle tier's services execute, and
// the tier's witness gateway. The module must know hermes's dependencies:
// add it as a tool once,
//
//	go get -tool github.com/nousresearch/hermes-service/cmd/hermes
func BuildHermes(t testing.TB) string {
	t.Helper()
	return Build(t, HermesPackage, "hermes")
}
