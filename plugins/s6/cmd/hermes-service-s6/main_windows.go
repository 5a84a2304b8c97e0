// Command hermes-service-s6 is the s6 backend plugin; s6 runs on Linux, so
// on Windows it only says so.
package main

import (
	"github.com/nousresearch/hermes-service/shared/plugin"
	"github.com/nousresearch/hermes-service/shared/service"
)

func main() {
	plugin.Serve(plugin.Unavailable(service.KindS6, "Linux (s6-overlay containers), not Windows"))
}
