package host

import "testing"

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"/srv/hermes/gateway.pid":   "/srv/hermes/gateway.pid",
		"/srv/my home/x":            "'/srv/my home/x'",
		"/srv/it's":                 `'/srv/it'\''s'`,
		"/srv/$(rm -rf ~)":          "'/srv/$(rm -rf ~)'",
		"":                          "''",
		"/srv/line\nbreak":          "'/srv/line\nbreak'",
		"/srv/hermes/profiles/w-1_": "/srv/hermes/profiles/w-1_",
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %q, want %q", in, got, want)
		}
	}
}
