//go:build !windows

package front

import (
	"os"
	"syscall"

	"github.com/nousresearch/hermes-service/shared/gateway"
)

// runUpstream replaces hermes with upstream's CLI: argv, stdio, signals
// and exit code are then simply its own. It returns only on failure.
func runUpstream(argv []string) (int, error) {
	err := syscall.Exec(argv[0], argv, os.Environ())
	return gateway.ExitConfig, err
}
