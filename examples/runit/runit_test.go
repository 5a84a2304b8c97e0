package runit_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/nousresearch/hermes-service/shared/conformance"
	"github.com/nousresearch/hermes-service/shared/plugintest"
)

// TestConformance runs the kit against the plugin: the checks every backend
// passes, each in a private runit tree of its own, then the lifecycle tier
// on a real runsvdir that hook.sh starts.
func TestConformance(t *testing.T) {
	hook, err := filepath.Abs("hook.sh")
	if err != nil {
		t.Fatal(err)
	}
	plugintest.Run(t, conformance.Config{
		Binary: plugintest.Build(t, "./cmd/hermes-service-runit", "hermes-service-runit"),
		Setup: func(context.Context) ([]string, func(), error) {
			dir, err := os.MkdirTemp("", "runit-check-")
			return []string{"HERMES_HOME=" + dir + "/home", "HERMES_RUNIT_DIR=" + dir + "/sv", "HERMES_RUNIT_SVDIR=" + dir + "/service"},
				func() { os.RemoveAll(dir) }, err
		},
		Lifecycle: &conformance.Lifecycle{Hook: conformance.CommandHook(hook), Hermes: plugintest.BuildHermes(t)},
	})
}
