//go:build !windows

package upstreamcli

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/nousresearch/hermes-service/internal/testbin"
	"github.com/nousresearch/hermes-service/internal/testgateway"
	"github.com/nousresearch/hermes-service/internal/upstreamgateway"
	"github.com/nousresearch/hermes-service/shared/gateway"
)

// TestGatewayRunAsksForTheExternalSupervisorFlag: newer upstream's gateway
// run gets --external-supervisor, older upstream's does not (it would refuse
// the flag), and a CLI that cannot answer gets none.
func TestGatewayRunAsksForTheExternalSupervisorFlag(t *testing.T) {
	upstream, err := testbin.Cached(upstreamgateway.Package)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := testbin.Cached(testgateway.Package)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	older := filepath.Join(dir, "older-upstream")
	script := "#!/bin/sh\nexport " + upstreamgateway.EnvNoExternalSupervisorFlag + "=1\nexec " + upstream + " \"$@\"\n"
	if err := os.WriteFile(older, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	failing := filepath.Join(dir, "failing")
	if err := os.WriteFile(failing, []byte("#!/bin/sh\necho "+gateway.FlagExternalSupervisor+"\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cli  []string
		want bool
	}{
		{"newer upstream", []string{upstream}, true},
		{"older upstream", []string{older}, false},
		{"a program that knows no flags", []string{plain}, false},
		{"a CLI that fails", []string{failing}, false},
		{"a CLI that is not there", []string{filepath.Join(dir, "absent")}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			argv := GatewayRun(tt.cli, "work")
			if got := slices.Contains(argv, gateway.FlagExternalSupervisor); got != tt.want {
				t.Fatalf("GatewayRun = %q: flag %v, want %v", argv, got, tt.want)
			}
			if !slices.Equal(argv[:len(tt.cli)+4], append(append([]string{}, tt.cli...), "-p", "work", "gateway", "run")) {
				t.Fatalf("GatewayRun = %q", argv)
			}
		})
	}
}
