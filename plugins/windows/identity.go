//go:build windows

package windows

import (
	"github.com/nousresearch/hermes-service/shared/backend"
	"github.com/nousresearch/hermes-service/shared/service"
)

// identity is who the backend is: the Windows backend installs services, reads their logs and can hand an
// install to an elevated prompt.
var identity = backend.Identity{Kind: service.KindWindows, Version: Version, Capabilities: service.Capabilities{
	Install: true, Logs: true, FollowLogs: true, ElevatedHandoff: true}}
