package launchd

import (
	"github.com/nousresearch/hermes-service/shared/backend"
	"github.com/nousresearch/hermes-service/shared/service"
)

// Version is the plugin's version, set at build time with -ldflags -X.
var Version = ""

// identity is who the backend is: launchd installs jobs (agent or daemon) and reads their logs.
var identity = backend.Identity{Kind: service.KindLaunchd, Version: Version, Capabilities: service.Capabilities{
	Install: true, Logs: true, FollowLogs: true, SystemScope: true}}

var _ service.Manager = (*Backend)(nil)
