//go:build !windows

// Command hermes-service-s6 is the s6 backend plugin; hermes launches it.
package main

import (
	"fmt"
	"os"

	"github.com/nousresearch/hermes-service/plugins/s6"
	"github.com/nousresearch/hermes-service/shared/plugin"
)

func main() {
	cfg, err := s6.ConfigFromEnv(plugin.Logger())
	if err != nil {
		fmt.Fprintln(os.Stderr, "hermes-service-s6:", err)
		os.Exit(78)
	}
	plugin.Serve(s6.New(cfg))
}
