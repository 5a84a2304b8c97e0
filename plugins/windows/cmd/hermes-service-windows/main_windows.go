// Command hermes-service-windows is the Windows backend plugin; hermes
// launches it. Run as `hermes-service-windows.exe service ...` by the
// Service Control Manager, it is the service process of one profile.
package main

import (
	"github.com/nousresearch/hermes-service/plugins/windows"
	"github.com/nousresearch/hermes-service/shared/plugin"
)

func main() { plugin.Serve(windows.FromEnv, windows.ServiceMode) }
