// Command hermes-service-systemd is the systemd backend plugin; hermes
// launches it.
package main

import (
	"fmt"
	"os"

	"github.com/nousresearch/hermes-service/plugins/systemd"
	"github.com/nousresearch/hermes-service/shared/plugin"
)

func main() {
	cfg, err := systemd.ConfigFromEnv(plugin.Logger())
	if err != nil {
		fmt.Fprintln(os.Stderr, "hermes-service-systemd:", err)
		os.Exit(78)
	}
	plugin.Serve(systemd.New(cfg))
}
