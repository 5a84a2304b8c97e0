package service_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/nousresearch/hermes-service/shared/service"
)

func TestValidateProfile(t *testing.T) {
	tests := []struct {
		name   string
		reason string // "" when valid
	}{
		{"default", ""},
		{"work", ""},
		{"a", ""},
		{"0", ""},
		{"team-42_x", ""},
		{strings.Repeat("a", 64), ""},
		{"", "empty"},
		{"Coder", "upper-case"},
		{"foo/bar", "path separator"},
		{"../escape", "dot"},
		{"..", "dot"},
		{"-leading-dash", `starts with '-'`},
		{"_leading_underscore", `starts with '_'`},
		{"name with spaces", "white space"},
		{"name.with.dots", "dot"},
		{strings.Repeat("a", 65), "65 bytes long"},
		{strings.Repeat("a", 252), "252 bytes long"},
		{"café", "non-ASCII"},
		{"nul\x00byte", "NUL"},
		{"bad\xffutf8", "UTF-8"},
		{"semi;colon", `character ';'`},
		{"back\\slash", "path separator"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := service.ValidateProfile(tt.name)
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				return
			}
			var invalid *service.InvalidProfileError
			if !errors.As(err, &invalid) || !errors.Is(err, service.ErrInvalidProfile) {
				t.Fatalf("got %v, want *InvalidProfileError", err)
			}
			if invalid.Name != tt.name || !strings.Contains(invalid.Reason, tt.reason) {
				t.Fatalf("got name %q reason %q, want reason mentioning %q", invalid.Name, invalid.Reason, tt.reason)
			}
			if invalid.Hint() == "" {
				t.Fatal("no hint")
			}
		})
	}
}

func TestValidateEnv(t *testing.T) {
	tests := []struct {
		env map[string]string
		bad string
	}{
		{map[string]string{"A": "x", "_B1": "has spaces 'and' \"quotes\" $(x) `y`\n"}, ""},
		{nil, ""},
		{map[string]string{"1A": "x"}, "1A"},
		{map[string]string{"A-B": "x"}, "A-B"},
		{map[string]string{"": "x"}, ""},
		{map[string]string{"A B": "x"}, "A B"},
		{map[string]string{"OK": "nul\x00"}, "OK"},
		{map[string]string{"OK": "latin-1 caf\xe9"}, "OK"},
		{map[string]string{"OK": "\xff"}, "OK"},
		// Everything else is the operator's, byte for byte.
		{map[string]string{"A": "trailing  \t\n", "B": " lead", "C": "\r\x1b[31m\x7f", "D": "", "E": "καλημέρα ✓"}, ""},
	}
	for _, tt := range tests {
		err := service.ValidateEnv(tt.env)
		wantErr := tt.bad != "" || (len(tt.env) == 1 && tt.env[""] != "")
		if (err != nil) != wantErr {
			t.Errorf("ValidateEnv(%q) = %v", tt.env, err)
			continue
		}
		var inv *service.InvalidOptionError
		if err != nil && (!errors.As(err, &inv) || inv.Value != tt.bad || inv.Option != "env") {
			t.Errorf("ValidateEnv(%q) = %#v", tt.env, err)
		}
	}
	for value, reason := range map[string]string{
		"nul\x00":         "the value holds a NUL byte (byte 3), which no environment can carry",
		"latin-1 caf\xe9": "the value is not valid UTF-8 (byte 11)",
		"ok ✓ \xff":       "the value is not valid UTF-8 (byte 7)",
	} {
		var inv *service.InvalidOptionError
		if err := service.ValidateEnvVar("K", value); !errors.As(err, &inv) || inv.Reason != reason {
			t.Errorf("ValidateEnvVar(K, %q) = %v, want the reason %q", value, err, reason)
		}
	}
}

func TestNaming(t *testing.T) {
	unit := service.Naming{Default: "hermes-gateway", Prefix: "hermes-gateway-", Suffix: ".service"}
	slot := service.Naming{Prefix: "gateway-"}
	tests := []struct {
		naming        service.Naming
		name, profile string
		ok            bool
	}{
		{unit, "hermes-gateway.service", "default", true},
		{unit, "hermes-gateway-work.service", "work", true},
		{unit, "hermes-gateway-Bad.service", "", false},
		{unit, "hermes-gateway-.service", "", false},
		{unit, "hermes-gateway-work", "", false},
		{unit, "other.service", "", false},
		{slot, "gateway-default", "default", true},
		{slot, "gateway-work", "work", true},
		{slot, "gateway-", "", false},
		{slot, ".gateway-work.tmp", "", false},
	}
	for _, tt := range tests {
		p, ok := tt.naming.Profile(tt.name)
		if p != tt.profile || ok != tt.ok {
			t.Errorf("%s: %q %v", tt.name, p, ok)
		}
		if ok && tt.naming.Name(p) != tt.name {
			t.Errorf("%s: Name(%q) = %q", tt.name, p, tt.naming.Name(p))
		}
	}
}
