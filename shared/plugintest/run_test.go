package plugintest_test

import (
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

func TestConformance(t *testing.T) {
	for _, caps := range []string{"", "none", "install,logs", "registration,logs,follow"} {
		t.Run("caps="+caps, func(t *testing.T) {
			plugintest.Run(t, conformance.Config{
				Binary: testPlugin,
				Env:    []string{"HERMES_TESTBACKEND_CAPS=" + caps},
				Setup:  testbackend.FreshState,
			})
		})
	}
}
