// Package testgateway builds a stand-in for the Hermes gateway, for tests
// only (never shipped).
package testgateway

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// Package is the import path of the test gateway's main package.
const Package = "github.com/nousresearch/hermes-service/internal/testgateway/cmd/hermes-test-gateway"

// Build compiles the test gateway into dir and returns its path.
func Build(dir string) (string, error) {
	out := filepath.Join(dir, "hermes-test-gateway")
	cmd := exec.Command("go", "build", "-trimpath", "-o", out, Package)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %w\n%s", Package, err, msg)
	}
	return out, nil
}
