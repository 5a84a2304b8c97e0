// Command hermes-service-windows is the Windows backend plugin; hermes
// launches it. Run as `hermes-service-windows.exe service ...` by the
// Service Control Manager, it is the service process of one profile.
package main

import (
	"fmt"
	"os"

	"github.com/nousresearch/hermes-service/plugins/windows"
	"github.com/nousresearch/hermes-service/shared/plugin"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "service" {
		os.Exit(windows.RunService(os.Args[2:]))
	}
	cfg, err := windows.ConfigFromEnv(plugin.Logger())
	if err != nil {
		fmt.Fprintln(os.Stderr, "hermes-service-windows:", err)
		os.Exit(78)
	}
	plugin.Serve(windows.New(cfg))
}
