package launchd_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/nousresearch/hermes-service/internal/fakecmd"
	"github.com/nousresearch/hermes-service/internal/testbin"
	"github.com/nousresearch/hermes-service/shared/conformance"
	"github.com/nousresearch/hermes-service/shared/plugintest"
)

// TestConformance runs the launchd plugin, built for this machine, against
// a fake launchctl: behaviour follows configuration, not the OS.
func TestConformance(t *testing.T) {
	dir := t.TempDir()
	bin, err := testbin.Build(dir, "github.com/nousresearch/hermes-service/plugins/launchd/cmd/hermes-service-launchd")
	if err != nil {
		t.Fatal(err)
	}
	plugintest.Run(t, conformance.Config{
		Binary: bin,
		Setup: func(context.Context) ([]string, func(), error) {
			d, err := os.MkdirTemp("", "hermes-launchd-conformance-")
			if err != nil {
				return nil, nil, err
			}
			tools, err := fakecmd.Install(d, "launchctl")
			if err != nil {
				return nil, nil, err
			}
			if err := tools.Set(fakecmd.Reply{Argv: []string{"launchctl", "print", "**"}, Exit: 113}); err != nil {
				return nil, nil, fmt.Errorf("script: %w", err)
			}
			env := append(tools.Env(), "HOME="+filepath.Join(d, "user"), "HERMES_HOME="+filepath.Join(d, "home"),
				"HERMES_LAUNCHD_DAEMONS_DIR="+filepath.Join(d, "daemons"))
			return env, func() { os.RemoveAll(d) }, nil
		},
	})
}
