// Command floor-plugin is the plugin half of the pluginfloor pair.
package main

import (
	goplugin "github.com/hashicorp/go-plugin"

	"github.com/nousresearch/hermes-service/internal/pluginfloor"
)

func main() {
	goplugin.Serve(&goplugin.ServeConfig{
		HandshakeConfig: pluginfloor.Handshake,
		Plugins:         pluginfloor.Plugins,
		GRPCServer:      goplugin.DefaultGRPCServer,
	})
}
