package plugin_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/nousresearch/hermes-service/internal/testbackend"
)

// testPlugin is the test backend, built once for the package's tests.
var testPlugin string

func TestMain(m *testing.M) {
	if os.Getenv("HERMES_TEST_HOST") != "" {
		os.Exit(fakeHost())
	}
	dir, err := os.MkdirTemp("", "hermes-plugin-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testPlugin, err = testbackend.BuildPlugin(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
