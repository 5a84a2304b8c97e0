// Command hermes-service-launchd is the launchd backend plugin; hermes
// launches it.
package main

import (
	"fmt"
	"os"

	"github.com/nousresearch/hermes-service/plugins/launchd"
	"github.com/nousresearch/hermes-service/shared/plugin"
)

func main() {
	cfg, err := launchd.ConfigFromEnv(plugin.Logger())
	if err != nil {
		fmt.Fprintln(os.Stderr, "hermes-service-launchd:", err)
		os.Exit(78)
	}
	plugin.Serve(launchd.New(cfg))
}
