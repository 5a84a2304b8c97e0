//go:build !windows

// Command hermes-service-windows is the Windows backend plugin; elsewhere it
// only says so.
package main

import (
	"github.com/nousresearch/hermes-service/shared/plugin"
	"github.com/nousresearch/hermes-service/shared/service"
)

func main() { plugin.Serve(plugin.Unavailable(service.KindWindows, "Windows")) }
