package plugin_test

import (
	"os"
	"testing"

	"github.com/nousresearch/hermes-service/internal/testbackend"
	"github.com/nousresearch/hermes-service/internal/testbin"
)

// testPlugin is the test backend, built once for the package's tests.
var testPlugin string

func TestMain(m *testing.M) {
	if os.Getenv("HERMES_TEST_HOST") != "" {
		os.Exit(fakeHost())
	}
	testbin.Main(m, func(dir string) (err error) {
		testPlugin, err = testbackend.BuildPlugin(dir)
		return err
	})
}
