// Command hermes-service-systemd is the systemd backend plugin; hermes launches it.
package main

import (
	"github.com/nousresearch/hermes-service/plugins/systemd"
	"github.com/nousresearch/hermes-service/shared/plugin"
)

func main() { plugin.Serve(systemd.FromEnv) }
