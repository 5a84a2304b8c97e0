package early

import (
	"testing"

	"github.com/nousresearch/hermes-service/shared/gateway"
)

func TestNamesMatchTheirHomes(t *testing.T) {
	if envUpstreamCLI != gateway.EnvUpstreamCLI {
		t.Errorf("envUpstreamCLI %q, gateway.EnvUpstreamCLI %q", envUpstreamCLI, gateway.EnvUpstreamCLI)
	}
}
