//go:build !windows

package s6

import (
	"github.com/nousresearch/hermes-service/shared/backend"
	"github.com/nousresearch/hermes-service/shared/service"
)

// identity is who the backend is: s6 registers gateways at run time and reads their logs; no install (an s6
// container's boot reconciles instead).
var identity = backend.Identity{Kind: service.KindS6, Version: Version,
	Capabilities: service.Capabilities{Registration: true, Logs: true, FollowLogs: true}}
