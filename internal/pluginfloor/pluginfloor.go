// Package pluginfloor is the anchor of `make bench`: the smallest host and
// plugin go-plugin allows, speaking gRPC over its default transport (a Unix
// socket, no TLS), the host making one call and ending the plugin. hermes's
// own commands pay for the same launch, handshake, call and shutdown plus
// whatever they do beyond it; a ratio against this pair, measured side by
// side in one run, is what that extra costs on the machine at hand.
//
// It answers the same Status call hermes's plugins answer, with a fixed
// reply and no work behind it.
package pluginfloor

import (
	"context"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	pb "github.com/nousresearch/hermes-service/shared/proto/hermes/service/v1"
)

// Handshake is the pair's own: neither hermes nor its plugins answer it.
var Handshake = goplugin.HandshakeConfig{
	ProtocolVersion:  1,
	MagicCookieKey:   "HERMES_PLUGINFLOOR_COOKIE",
	MagicCookieValue: "pluginfloor",
}

// Name is the plugin's name in the pair's plugin set.
const Name = "floor"

// HostPackage and PluginPackage are the pair's mains, for builds.
const (
	HostPackage   = "github.com/nousresearch/hermes-service/internal/pluginfloor/cmd/floor-host"
	PluginPackage = "github.com/nousresearch/hermes-service/internal/pluginfloor/cmd/floor-plugin"
)

// Plugin is the go-plugin glue: a Manager service whose Status answers at
// once, and a host side that dispenses the generated client.
type Plugin struct {
	goplugin.Plugin
}

func (Plugin) GRPCServer(_ *goplugin.GRPCBroker, s *grpc.Server) error {
	pb.RegisterManagerServiceServer(s, server{})
	return nil
}

func (Plugin) GRPCClient(_ context.Context, _ *goplugin.GRPCBroker, c *grpc.ClientConn) (interface{}, error) {
	return pb.NewManagerServiceClient(c), nil
}

type server struct {
	pb.UnimplementedManagerServiceServer
}

func (server) Status(_ context.Context, req *pb.StatusRequest) (*pb.StatusResponse, error) {
	return &pb.StatusResponse{}, nil
}

// Plugins is the pair's plugin set.
var Plugins = map[string]goplugin.Plugin{Name: Plugin{}}
