//go:build !windows

// Command hermes-service-s6 is the s6 backend plugin; hermes launches it.
package main

import (
	"github.com/nousresearch/hermes-service/plugins/s6"
	"github.com/nousresearch/hermes-service/shared/plugin"
)

func main() { plugin.Serve(s6.FromEnv) }
