package route

import (
	"testing"

	"github.com/nousresearch/hermes-service/internal/fakeupstream"
	"github.com/nousresearch/hermes-service/shared/gateway"
)

// TestEveryUpstreamBuiltinGoesUpstream: every built-in of the Hermes CLI's
// parser but gateway is upstream's.
func TestEveryUpstreamBuiltinGoesUpstream(t *testing.T) {
	for _, name := range fakeupstream.UpstreamBuiltins {
		want := Upstream
		if name == gateway.CommandGateway {
			want = Ours
		}
		if got := Of([]string{name}); got != want {
			t.Errorf("hermes %s: route %d, want %d", name, got, want)
		}
	}
}

func TestOf(t *testing.T) {
	tests := []struct {
		args []string
		want Route
	}{
		{nil, Upstream},
		{[]string{"chat"}, Upstream},
		{[]string{"-p", "work"}, Upstream},
		{[]string{"-p", "work", "chat"}, Upstream},
		{[]string{"--profile=work", "gateway", "status"}, Ours},
		{[]string{"-p", "gateway", "chat"}, Upstream}, // a profile named gateway
		{[]string{"-m", "x", "gateway", "status"}, Upstream},
		{[]string{"--tui"}, Upstream},
		{[]string{"--help"}, Ours},
		{[]string{"-h"}, Ours},
		{[]string{"--version"}, Version},
		{[]string{"-V"}, Version},
		{[]string{"--home", "/h", "--debug", "gateway", "install", "--no-start-now"}, Ours},
		{[]string{"gateway"}, Ours},
		{[]string{"gateway", "--help"}, Ours},
		{[]string{"gateway", "-p", "work", "status", "--deep"}, Ours},
		{[]string{"gateway", "doctor"}, Ours},
		{[]string{"gateway", "plugins", "check", "/x"}, Ours},
		{[]string{"gateway", "help"}, Ours},
		{[]string{"gateway", "setup"}, Upstream},
		{[]string{"gateway", "-p", "work", "migrate-legacy"}, Upstream},
		{[]string{"--generate-bash-completion"}, Ours},
		{[]string{"--", "gateway"}, Upstream},
	}
	for _, tt := range tests {
		if got := Of(tt.args); got != tt.want {
			t.Errorf("Of(%q) = %d, want %d", tt.args, got, tt.want)
		}
	}
}
