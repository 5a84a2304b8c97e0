// Command hermes-service-test serves the test backend as a plugin. It is
// built by the tests, never shipped.
//
// HERMES_TESTBACKEND_MODE makes it misbehave before serving: "exit" exits at
// once with status 3, "hang" never completes the handshake, "garbage"
// prints a line that is not a handshake, "wrong-cookie" serves with a
// handshake of another program.
package main

import (
	"fmt"
	"os"
	"time"

	goplugin "github.com/hashicorp/go-plugin"

	"github.com/nousresearch/hermes-service/internal/testbackend"
	"github.com/nousresearch/hermes-service/shared/plugin"
)

func main() {
	switch os.Getenv("HERMES_TESTBACKEND_MODE") {
	case "exit":
		fmt.Fprintln(os.Stderr, "test plugin: exiting at once on purpose")
		os.Exit(3)
	case "hang":
		time.Sleep(time.Hour)
	case "garbage":
		fmt.Println("hello, I am not a plugin")
		time.Sleep(time.Hour)
	case "wrong-cookie":
		goplugin.Serve(&goplugin.ServeConfig{
			HandshakeConfig: goplugin.HandshakeConfig{ProtocolVersion: 1, MagicCookieKey: "SOME_OTHER_PLUGIN", MagicCookieValue: "x"},
			Plugins:         goplugin.PluginSet{},
			GRPCServer:      goplugin.DefaultGRPCServer,
		})
		return
	}
	plugin.Serve(testbackend.Factory)
}
