//go:build !windows

package plugin

import "os"

// autoMTLS is off where the socket lives in a private folder; see the
// package documentation.
var autoMTLS = false

// privateSocketDir makes a folder only this user can enter, for the plugin's
// Unix socket: with a permissive umask the socket itself could be reachable
// by others, the folder never is.
func privateSocketDir() (string, error) {
	return os.MkdirTemp("", "hermes-plugin-")
}
