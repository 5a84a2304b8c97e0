package runner_test

import (
	"testing"

	"github.com/nousresearch/hermes-service/internal/runner"
)

func TestInvocationForeground(t *testing.T) {
	tests := []struct {
		name    string
		inv     runner.Invocation
		env     map[string]string
		wantWhy string // "" hands the gateway on
	}{
		{name: "bare", wantWhy: ""},
		{name: "an s6 slot's run", env: map[string]string{"HERMES_S6_SUPERVISED_CHILD": "1", "HERMES_SUPERVISED_CHILD": "1"},
			wantWhy: "a supervised child (HERMES_S6_SUPERVISED_CHILD is set)"},
		{name: "any other service's run", env: map[string]string{"HERMES_SUPERVISED_CHILD": "1"},
			wantWhy: "a supervised child (HERMES_SUPERVISED_CHILD is set)"},
		// Upstream counts any value: a loop costs more than a missed redirect.
		{name: "a supervised child whatever the value", env: map[string]string{"HERMES_S6_SUPERVISED_CHILD": "0"},
			wantWhy: "a supervised child (HERMES_S6_SUPERVISED_CHILD is set)"},
		{name: "set empty is unset", env: map[string]string{"HERMES_S6_SUPERVISED_CHILD": "", "HERMES_SUPERVISED_CHILD": ""}},
		{name: "--no-supervise", inv: runner.Invocation{NoSupervise: true}, wantWhy: "--no-supervise was given"},
		{name: "the variable", env: map[string]string{"HERMES_GATEWAY_NO_SUPERVISE": "1"}, wantWhy: "HERMES_GATEWAY_NO_SUPERVISE is set"},
		{name: "the variable, true", env: map[string]string{"HERMES_GATEWAY_NO_SUPERVISE": "TRUE"}, wantWhy: "HERMES_GATEWAY_NO_SUPERVISE is set"},
		{name: "the variable, yes", env: map[string]string{"HERMES_GATEWAY_NO_SUPERVISE": "Yes"}, wantWhy: "HERMES_GATEWAY_NO_SUPERVISE is set"},
		{name: "the variable, no", env: map[string]string{"HERMES_GATEWAY_NO_SUPERVISE": "0"}},
		{name: "the variable, something else", env: map[string]string{"HERMES_GATEWAY_NO_SUPERVISE": "on"}},
		{name: "a named program", inv: runner.Invocation{Program: true}, wantWhy: "the command line names the gateway program"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := tt.inv
			inv.Getenv = func(k string) string { return tt.env[k] }
			if got := inv.Foreground(); got != tt.wantWhy {
				t.Errorf("Foreground() = %q, want %q", got, tt.wantWhy)
			}
		})
	}
}
