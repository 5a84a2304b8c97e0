package host_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nousresearch/hermes-service/internal/testbin"
)

// TestCallsHonourTheCommandsTimeout: a plugin that hangs in a call costs
// the command's own --timeout, not the client's fixed default (minutes).
func TestCallsHonourTheCommandsTimeout(t *testing.T) {
	t.Parallel()
	buildAll(t)
	dir, err := testbin.TrustedTemp("calltimeout-") // plugin trust refuses /tmp
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if _, err := testbin.Build(dir, "github.com/nousresearch/hermes-service/internal/testbackend/cmd/hermes-service-test"); err != nil {
		t.Fatal(err)
	}
	for _, verb := range []string{"start", "stop", "restart"} {
		t.Run(verb, func(t *testing.T) {
			t.Parallel()
			// The test backend's profile "hang" blocks every call until its
			// deadline.
			cmd := exec.Command(hermesBin, "-p", "hang", "gateway", verb, "--timeout", "1s")
			cmd.Env = append(os.Environ(), "HERMES_PLUGIN_PATH="+dir, "HERMES_SERVICE_BACKEND=test",
				"HERMES_HOME="+filepath.Join(dir, "home-"+verb))
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			start := time.Now()
			err := cmd.Run()
			took := time.Since(start)
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 1 {
				t.Fatalf("exit %v, want 1\n%s", err, stderr.String())
			}
			if !strings.Contains(stderr.String(), "no answer in time") {
				t.Fatalf("stderr:\n%s", stderr.String())
			}
			if took > 8*time.Second {
				t.Fatalf("took %s with --timeout 1s", took)
			}
		})
	}
}
