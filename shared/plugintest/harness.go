package plugintest

import (
	"testing"

	goplugin "github.com/hashicorp/go-plugin"

	"github.com/nousresearch/hermes-service/shared/plugin"
	"github.com/nousresearch/hermes-service/shared/service"
)

// Harness serves m over a real gRPC connection inside the test process and
// returns the host's view of it. Everything crosses the wire as in
// production (validation, capability checks, error encoding), minus the
// process launch. The connection closes when the test ends.
func Harness(t testing.TB, m service.Manager) service.Manager {
	t.Helper()
	client, _ := goplugin.TestPluginGRPCConn(t, false, map[string]goplugin.Plugin{
		plugin.PluginName: &plugin.GRPCPlugin{Impl: m},
	})
	t.Cleanup(func() { _ = client.Close() })
	raw, err := client.Dispense(plugin.PluginName)
	if err != nil {
		t.Fatalf("dispense: %v", err)
	}
	return raw.(service.Manager)
}
