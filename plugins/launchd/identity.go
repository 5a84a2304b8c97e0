package launchd

import (
	"github.com/nousresearch/hermes-service/shared/backend"
	"github.com/nousresearch/hermes-service/shared/service"
)

// identity is who the backend is: launchd installs jobs (agent or daemon) and reads their logs.
var identity = backend.Identity{Kind: service.KindLaunchd, Version: Version, Capabilities: service.Capabilities{
	Install: true, Logs: true, FollowLogs: true, SystemScope: true}}
