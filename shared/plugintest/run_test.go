package plugintest_test

import (
	"context"
	"os"
	"testing"

	"github.com/nousresearch/hermes-service/internal/testbackend"
	"github.com/nousresearch/hermes-service/internal/testbin"
	"github.com/nousresearch/hermes-service/shared/conformance"
	"github.com/nousresearch/hermes-service/shared/plugintest"
)

var testPlugin string

func TestMain(m *testing.M) {
	testbin.Main(m, func(dir string) (err error) {
		testPlugin, err = testbackend.BuildPlugin(dir)
		return err
	})
}

// freshState gives each check an empty state folder of its own, the way a
// real backend's hook gives it a private scandir or unit folder.
func freshState(context.Context) ([]string, func(), error) {
	dir, err := os.MkdirTemp("", "hermes-testbackend-state-")
	if err != nil {
		return nil, nil, err
	}
	return []string{"HERMES_TESTBACKEND_DIR=" + dir}, func() { os.RemoveAll(dir) }, nil
}

func TestConformance(t *testing.T) {
	for _, caps := range []string{"", "none", "install,logs", "registration,logs,follow"} {
		t.Run("caps="+caps, func(t *testing.T) {
			plugintest.Run(t, conformance.Config{
				Binary: testPlugin,
				Env:    []string{"HERMES_TESTBACKEND_CAPS=" + caps},
				Setup:  freshState,
			})
		})
	}
}
