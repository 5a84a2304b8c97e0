//go:build !windows

package runner

import (
	"fmt"
	"syscall"
)

// execGateway replaces the runner with the gateway program. It returns
// only when the exec failed.
func execGateway(root string, argv []string) error {
	path, err := resolve(argv[0])
	if err != nil {
		return err
	}
	err = syscall.Exec(path, argv, gatewayEnv(root))
	return configError(fmt.Errorf("run the gateway program %q: %w", path, err))
}
