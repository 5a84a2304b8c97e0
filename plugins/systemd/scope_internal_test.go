package systemd

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/nousresearch/hermes-service/internal/fakecmd"
	"github.com/nousresearch/hermes-service/shared/backend"
	"github.com/nousresearch/hermes-service/shared/gateway"
	"github.com/nousresearch/hermes-service/shared/service"
)

// userBackend is the backend as an unprivileged user sees it, driving fake
// systemctl and loginctl executables first on PATH.
func userBackend(t *testing.T) (*Backend, *fakecmd.Tools, string) {
	t.Helper()
	root := t.TempDir()
	tools := fakecmd.InstallForTest(t, root, "systemctl", "loginctl", "journalctl")
	hermes := filepath.Join(root, "hermes")
	_ = os.WriteFile(hermes, []byte("#!/bin/sh\n"), 0o755)
	cfg := Config{Settings: backend.Settings{Home: filepath.Join(root, "home")}, UserUnitDir: filepath.Join(root, "user"), SystemUnitDir: filepath.Join(root, "etc"),
		LingerDir: filepath.Join(root, "linger"), User: "tester", Root: false}
	return New(cfg), tools, hermes
}

func TestUserScopeInstall(t *testing.T) {
	b, tools, hermes := userBackend(t)
	if err := os.MkdirAll(b.cfg.LingerDir, 0o755); err != nil {
		t.Fatal(err)
	}
	_ = os.WriteFile(filepath.Join(b.cfg.LingerDir, "tester"), nil, 0o644)
	err := b.Install(context.Background(), "work", service.InstallOptions{StartNow: true, StartOnLogin: true, Command: gateway.RunnerArgv(hermes, "work")})
	if err != nil {
		t.Fatal(err)
	}
	want := "systemctl --user daemon-reload\nsystemctl --user enable hermes-gateway-work.service\nsystemctl --user start hermes-gateway-work.service"
	if got := strings.Join(tools.Calls(), "\n"); got != want {
		t.Fatalf("calls:\n%s", got)
	}
	data, err := os.ReadFile(filepath.Join(b.cfg.UserUnitDir, "hermes-gateway-work.service"))
	if err != nil || !strings.Contains(string(data), "WantedBy=default.target") || strings.Contains(string(data), "User=") {
		t.Fatalf("user unit: %v\n%s", err, data)
	}
	// System scope without root: the sudo command to run instead.
	err = b.Install(context.Background(), "work", service.InstallOptions{System: true, Command: gateway.RunnerArgv(hermes, "work")})
	if !errors.Is(err, service.ErrPermission) || !strings.Contains(service.HintOf(err), "sudo hermes -p work gateway install --system") {
		t.Fatalf("got %v", err)
	}
}

// TestLinger: linger is confirmed from logind's file or loginctl, enabled
// when it can be (and taken back on rollback), and when it cannot be
// confirmed the install goes on with a warning saying what happens at
// logout and how to fix it.
func TestLinger(t *testing.T) {
	tests := []struct {
		name     string
		file     bool
		replies  []fakecmd.Reply
		calls    string
		warn     string
		rollback string
	}{
		{name: "linger file", file: true, calls: ""},
		{name: "logind says yes", replies: []fakecmd.Reply{{Argv: []string{"loginctl", "show-user", "**"}, Stdout: "yes\n"}},
			calls: "loginctl show-user tester -p Linger --value"},
		{name: "enabled here", replies: []fakecmd.Reply{{Argv: []string{"loginctl", "show-user", "**"}, Stdout: "no\n"}},
			calls: "loginctl show-user tester -p Linger --value\nloginctl enable-linger tester", rollback: "loginctl disable-linger tester"},
		{name: "cannot enable", replies: []fakecmd.Reply{{Argv: []string{"loginctl", "show-user", "**"}, Exit: 1, Stderr: "Failed to get user: No such user"},
			{Argv: []string{"loginctl", "enable-linger", "**"}, Exit: 1, Stderr: "Access denied"}},
			calls: "loginctl show-user tester -p Linger --value\nloginctl enable-linger tester",
			warn:  "the gateway stops when tester's last session ends (logout)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, tools, _ := userBackend(t)
			var logged strings.Builder
			b.Base = backend.NewBaseFor(identity, b.cfg.Home, hclog.New(&hclog.LoggerOptions{Output: &logged}))
			_ = os.MkdirAll(b.cfg.LingerDir, 0o755)
			if tt.file {
				_ = os.WriteFile(filepath.Join(b.cfg.LingerDir, "tester"), nil, 0o644)
			}
			_ = tools.Set(tt.replies...)
			tx := &transaction{b: b, s: b.cfg.userScope()}
			tx.linger(context.Background(), "tester")
			if got := strings.Join(tools.Calls(), "\n"); got != tt.calls {
				t.Fatalf("calls:\n%s\nwant:\n%s", got, tt.calls)
			}
			if tt.warn != "" && (!strings.Contains(logged.String(), tt.warn) || !strings.Contains(logged.String(), "sudo loginctl enable-linger tester")) {
				t.Fatalf("warning: %s", logged.String())
			}
			tools.Reset()
			tx.rollback(context.Background())
			if got := strings.Join(tools.Calls(), "\n"); got != tt.rollback {
				t.Fatalf("rollback calls:\n%s\nwant:\n%s", got, tt.rollback)
			}
		})
	}
}
