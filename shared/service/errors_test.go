package service_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"

	"github.com/nousresearch/hermes-service/shared/service"
)

func TestErrorsMatchTheirSentinelsAndHint(t *testing.T) {
	tests := []struct {
		err      error
		sentinel []error
		text     string
		hint     string
	}{
		{&service.InvalidProfileError{Name: "Coder", Reason: "it contains upper-case letters"},
			[]error{service.ErrInvalidProfile}, `invalid profile name "Coder"`, "lower-case"},
		{&service.InvalidOptionError{Option: "env", Value: "1A", Reason: "bad key"},
			[]error{service.ErrInvalidOption}, `invalid env "1A"`, "--env"},
		{&service.NotRegisteredError{Profile: "work", Service: "gateway-work"},
			[]error{service.ErrNotFound}, `profile "work" is not registered (gateway-work)`, "hermes -p work gateway register"},
		{&service.NotInstalledError{Profile: "default", Service: "hermes-gateway.service"},
			[]error{service.ErrNotFound}, `profile "default" is not installed`, "hermes gateway install"},
		{&service.AlreadyExistsError{Profile: "work"},
			[]error{service.ErrAlreadyExists}, `profile "work" already exists`, "--force"},
		{&service.CommandFailedError{Service: "gateway-work", Action: "s6-svc -u", ExitCode: 111, Stderr: "s6-svc: fatal: unable to control\n"},
			[]error{service.ErrCommandFailed}, "s6-svc -u failed for gateway-work (exit code 111): s6-svc: fatal: unable to control", "--debug"},
		{&service.UnsupportedError{Operation: "register", Backend: "systemd"},
			[]error{service.ErrUnsupported, errors.ErrUnsupported}, "the systemd backend does not support register", "--backend"},
		{&service.PermissionError{Path: "/etc/systemd/system/x.service", Operation: "write"},
			[]error{service.ErrPermission, fs.ErrPermission}, "permission denied: write /etc/systemd/system/x.service", "sudo"},
		{&service.PermissionError{Operation: "install a service", HintText: "open an elevated prompt"},
			[]error{service.ErrPermission}, "permission denied: install a service", "elevated prompt"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%T", tt.err), func(t *testing.T) {
			wrapped := fmt.Errorf("gateway start: %w", tt.err)
			for _, s := range tt.sentinel {
				if !errors.Is(wrapped, s) {
					t.Errorf("errors.Is(%v) = false", s)
				}
			}
			if errors.Is(wrapped, context.Canceled) {
				t.Error("matches an unrelated sentinel")
			}
			if !strings.Contains(tt.err.Error(), tt.text) {
				t.Errorf("text %q lacks %q", tt.err.Error(), tt.text)
			}
			if h := service.HintOf(wrapped); !strings.Contains(h, tt.hint) {
				t.Errorf("hint %q lacks %q", h, tt.hint)
			}
		})
	}
	if service.HintOf(errors.New("plain")) != "" {
		t.Error("a plain error has a hint")
	}
}
