// Command floor-host is the host half of the pluginfloor pair: it launches
// the plugin at the path it is given, makes one Status call, prints the
// reply's state and ends the plugin.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"

	"github.com/nousresearch/hermes-service/internal/pluginfloor"
	pb "github.com/nousresearch/hermes-service/shared/proto/hermes/service/v1"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: floor-host PLUGIN (the floor-plugin executable)")
		os.Exit(2)
	}
	client := goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig:  pluginfloor.Handshake,
		Plugins:          pluginfloor.Plugins,
		Cmd:              exec.Command(os.Args[1]),
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		Logger:           hclog.New(&hclog.LoggerOptions{Level: hclog.Error, Output: io.Discard}),
	})
	defer client.Kill()
	rpc, err := client.Client()
	if err == nil {
		var raw interface{}
		if raw, err = rpc.Dispense(pluginfloor.Name); err == nil {
			var st *pb.StatusResponse
			if st, err = raw.(pb.ManagerServiceClient).Status(context.Background(), &pb.StatusRequest{Profile: "default"}); err == nil {
				fmt.Println(st.GetStatus().GetState())
			}
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "floor-host:", err)
		client.Kill()
		os.Exit(1)
	}
}
