package host

import (
	"maps"
	"slices"
	"testing"

	"github.com/nousresearch/hermes-service/internal/route"
	"github.com/nousresearch/hermes-service/shared/gateway"
)

// TestOnlyGatewayAtTheTopLevel: hermes answers only `gateway` at the top
// level; any other name of ours would shadow the Hermes CLI's.
func TestOnlyGatewayAtTheTopLevel(t *testing.T) {
	for _, c := range newApp(nil, nil).Commands {
		for _, n := range c.Names() {
			if n != gateway.CommandGateway {
				t.Errorf("top-level command %q of ours would shadow the Hermes CLI's", n)
			}
		}
	}
}

// TestFrontKnowsTheGatewayCommands: the words route sends to hermes are
// exactly the gateway command's subcommands (and help).
func TestFrontKnowsTheGatewayCommands(t *testing.T) {
	names := map[string]bool{"help": true, "h": true}
	for _, s := range gatewayCommand().Subcommands {
		for _, n := range s.Names() {
			names[n] = true
		}
	}
	if !maps.Equal(names, route.GatewaySubcommands) {
		t.Errorf("route.GatewaySubcommands %v, the command tree %v", slices.Sorted(maps.Keys(route.GatewaySubcommands)), slices.Sorted(maps.Keys(names)))
	}
}
