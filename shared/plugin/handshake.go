package plugin

import (
	"context"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/nousresearch/hermes-service/shared/gateway"
	pb "github.com/nousresearch/hermes-service/shared/proto/hermes/service/v1"
	"github.com/nousresearch/hermes-service/shared/service"
)

// ProtocolVersion is the newest wire protocol this SDK speaks. A later
// version is added beside it in pluginSets, so hosts and plugins built
// against different SDKs agree on the newest version both know.
const ProtocolVersion = 1

// PluginName is the name under which the Manager is dispensed.
const PluginName = "manager"

// Handshake is the go-plugin handshake. The cookie is not a secret: it only
// keeps a plugin started by hand from waiting on stdin, and keeps hermes from
// launching a program that is not a hermes plugin.
var Handshake = goplugin.HandshakeConfig{
	ProtocolVersion:  ProtocolVersion,
	MagicCookieKey:   gateway.EnvPluginCookie,
	MagicCookieValue: "7d1b2f0e-hermes-service-manager",
}

// pluginSets maps each wire protocol version to its plugins.
func pluginSets(impl service.Manager) map[int]goplugin.PluginSet {
	return map[int]goplugin.PluginSet{
		1: {PluginName: &GRPCPlugin{Impl: impl}},
	}
}

// GRPCPlugin is the go-plugin glue for a Manager: on the plugin side it
// registers Impl's gRPC service, on the host side it dispenses a Manager
// that calls it.
type GRPCPlugin struct {
	goplugin.NetRPCUnsupportedPlugin
	// Impl is the backend; set on the plugin side only.
	Impl service.Manager
}

var _ goplugin.GRPCPlugin = (*GRPCPlugin)(nil)

// GRPCServer registers the Manager service.
func (p *GRPCPlugin) GRPCServer(_ *goplugin.GRPCBroker, s *grpc.Server) error {
	pb.RegisterManagerServiceServer(s, NewServer(p.Impl, Logger()))
	return nil
}

// GRPCClient returns a service.Manager calling the plugin.
func (p *GRPCPlugin) GRPCClient(_ context.Context, _ *goplugin.GRPCBroker, c *grpc.ClientConn) (interface{}, error) {
	return NewClient(pb.NewManagerServiceClient(c)), nil
}
