// Command hermes-service-runit is the runit backend plugin; hermes launches it.
package main

import (
	"example.com/hermes-runit"

	"github.com/nousresearch/hermes-service/shared/plugin"
)

func main() { plugin.Serve(runit.FromEnv) }
