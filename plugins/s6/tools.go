//go:build !windows

package s6

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"strings"

	"github.com/nousresearch/hermes-service/shared/service"
)

// run runs an s6 tool; a failure is a *service.CommandFailedError naming
// the action, the exit code and what the tool said.
func (b *Backend) run(ctx context.Context, slot string, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, b.cfg.tool(name), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	b.log.Debug("s6 tool", "tool", name, "args", args, "error", err, "stderr", strings.TrimSpace(stderr.String()))
	if err == nil {
		return stdout.String(), nil
	}
	if ctx.Err() != nil {
		return "", ctx.Err()
	}
	action := strings.TrimSpace(name + " " + strings.Join(flagsOf(args), " "))
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return stdout.String(), &service.CommandFailedError{Service: slot, Action: action, ExitCode: ee.ExitCode(),
			Stderr: strings.TrimSpace(stderr.String())}
	}
	return "", &service.CommandFailedError{Service: slot, Action: action, ExitCode: -1, Stderr: err.Error(),
		HintText: "install s6 (apt-get install s6), or point HERMES_S6_BIN_DIR at the folder that holds " + name}
}

// flagsOf keeps the options of an argument list, for naming the action.
func flagsOf(args []string) []string {
	var out []string
	for _, a := range args {
		if strings.HasPrefix(a, "-") {
			out = append(out, a)
		}
	}
	return out
}
