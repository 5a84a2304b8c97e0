package early

import (
	"slices"
	"testing"

	"github.com/nousresearch/hermes-service/shared/gateway"
)

func TestNamesMatchTheirHomes(t *testing.T) {
	if envUpstreamCLI != gateway.EnvUpstreamCLI {
		t.Errorf("envUpstreamCLI %q, gateway.EnvUpstreamCLI %q", envUpstreamCLI, gateway.EnvUpstreamCLI)
	}
}

func TestPlainWords(t *testing.T) {
	for _, tt := range []struct {
		line  string
		words []string
		ok    bool
	}{
		{"/usr/bin/python3 -m hermes_cli.main", []string{"/usr/bin/python3", "-m", "hermes_cli.main"}, true},
		{"  /a\tb  ", []string{"/a", "b"}, true},
		{"", nil, true},
		{`/a "b c"`, nil, false},
		{`/a b\ c`, nil, false},
		{"/a # note", nil, false},
		{"/a $X", nil, false},
	} {
		words, ok := plainWords(tt.line)
		if ok != tt.ok || !slices.Equal(words, tt.words) {
			t.Errorf("plainWords(%q) = %q, %v; want %q, %v", tt.line, words, ok, tt.words, tt.ok)
		}
	}
	if got := split("/a::/b", ':'); !slices.Equal(got, []string{"/a", "", "/b"}) {
		t.Errorf("split = %q", got)
	}
}
