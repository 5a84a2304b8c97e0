package plugin_test

import (
	"testing"

	"github.com/nousresearch/hermes-service/shared/plugin"
)

func TestFileName(t *testing.T) {
	tests := []struct {
		kind, goos, want string
	}{
		{"s6", "linux", "hermes-service-s6"},
		{"launchd", "darwin", "hermes-service-launchd"},
		{"windows", "windows", "hermes-service-windows.exe"},
		{"my-backend", "freebsd", "hermes-service-my-backend"},
	}
	for _, tt := range tests {
		if got := plugin.FileName(tt.kind, tt.goos); got != tt.want {
			t.Errorf("FileName(%q, %q) = %q, want %q", tt.kind, tt.goos, got, tt.want)
		}
		if kind, ok := plugin.KindFromFileName(tt.want, tt.goos); !ok || kind != tt.kind {
			t.Errorf("KindFromFileName(%q, %q) = %q, %v, want %q, true", tt.want, tt.goos, kind, ok, tt.kind)
		}
	}
}

func TestKindFromFileName(t *testing.T) {
	tests := []struct {
		name, goos string
		kind       string
		ok         bool
	}{
		{name: "hermes-service-s6", goos: "linux", kind: "s6", ok: true},
		{name: "hermes-service-s6.exe", goos: "windows", kind: "s6", ok: true},
		{name: "hermes-service-s6", goos: "windows"},
		{name: "hermes-service-s6.EXE", goos: "windows"},
		{name: "hermes-service-s6.exe", goos: "linux", kind: "s6.exe", ok: true},
		{name: "hermes-service-", goos: "linux"},
		{name: "hermes-service-.exe", goos: "windows"},
		{name: "hermes", goos: "linux"},
		{name: "other-s6", goos: "linux"},
		{name: "", goos: "linux"},
	}
	for _, tt := range tests {
		kind, ok := plugin.KindFromFileName(tt.name, tt.goos)
		if kind != tt.kind || ok != tt.ok {
			t.Errorf("KindFromFileName(%q, %q) = %q, %v, want %q, %v", tt.name, tt.goos, kind, ok, tt.kind, tt.ok)
		}
	}
}
