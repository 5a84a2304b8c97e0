package upstreamgateway_test

import (
	"testing"

	"github.com/nousresearch/hermes-service/internal/upstreamgateway"
)

func TestReadersDecideAsUpstreamsEras(t *testing.T) {
	tests := []struct {
		state string
		want  [3]bool // seed-era, later, newest
	}{
		{``, [3]bool{false, false, false}},
		{`{"gateway_state":"running"}`, [3]bool{true, true, true}},
		{`{"gateway_state":"stopped"}`, [3]bool{false, false, false}},
		{`{"gateway_state":"draining"}`, [3]bool{false, true, true}},
		{`{"gateway_state":"degraded"}`, [3]bool{false, true, true}},
		{`{"gateway_state":"running","desired_state":"stopped"}`, [3]bool{true, false, false}},
		{`{"gateway_state":"stopped","desired_state":"running"}`, [3]bool{false, true, true}},
		{`{"gateway_state":"running","desired_state":null}`, [3]bool{true, true, true}},
		{"\xef\xbb\xbf" + `{"gateway_state":"running"}`, [3]bool{false, false, true}},
		{`not json`, [3]bool{false, false, false}},
	}
	for _, tt := range tests {
		for i, r := range upstreamgateway.Readers {
			if got := r.Starts([]byte(tt.state)); got != tt.want[i] {
				t.Errorf("%s reading %q: starts=%v, want %v", r, tt.state, got, tt.want[i])
			}
		}
	}
}
