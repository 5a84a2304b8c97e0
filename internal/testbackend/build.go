package testbackend

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// PluginPackage is the import path of the test plugin's main package.
const PluginPackage = "github.com/nousresearch/hermes-service/internal/testbackend/cmd/hermes-service-test"

// BuildPlugin compiles the test plugin into dir as hermes-service-test and
// returns its path. Tests call it once, from TestMain.
func BuildPlugin(dir string) (string, error) {
	out := filepath.Join(dir, "hermes-service-test")
	cmd := exec.Command("go", "build", "-trimpath", "-o", out, PluginPackage)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %w\n%s", PluginPackage, err, msg)
	}
	return out, nil
}
