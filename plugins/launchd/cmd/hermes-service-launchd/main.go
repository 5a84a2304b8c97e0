// Command hermes-service-launchd is the launchd backend plugin; hermes launches it.
package main

import (
	"github.com/nousresearch/hermes-service/plugins/launchd"
	"github.com/nousresearch/hermes-service/shared/plugin"
)

func main() { plugin.Serve(launchd.FromEnv) }
