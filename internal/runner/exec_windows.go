//go:build windows

package runner

import "errors"

// execGateway has no exec to replace the runner with on Windows, where the
// service wrapper must stay and forward an operator's stop to the gateway
// itself; that comes with the Windows tier's rework.
func execGateway(string, []string) error {
	return configError(errors.New("--protocol hermes is not supported on Windows yet; use --protocol plain"))
}
