package systemd

import (
	"github.com/nousresearch/hermes-service/shared/backend"
	"github.com/nousresearch/hermes-service/shared/service"
)

// identity is who the backend is: systemd installs units (user or system scope) and reads their logs; no
// runtime registration.
var identity = backend.Identity{Kind: service.KindSystemd, Version: Version, Capabilities: service.Capabilities{
	Install: true, Logs: true, FollowLogs: true, SystemScope: true}}
