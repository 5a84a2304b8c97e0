package discovery

import (
	"fmt"
	"os"
	"testing"

	"github.com/nousresearch/hermes-service/internal/testbin"
)

// TestMain gives the tests (their t.TempDir) a temporary folder the trust
// checks accept: the system's /tmp is world-writable, so anything under it
// is refused.
func TestMain(m *testing.M) {
	cleanup, err := testbin.UseTrustedTemp()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	cleanup()
	os.Exit(code)
}
