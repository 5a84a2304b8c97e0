//go:build !windows

package s6

import (
	"context"
	"strings"

	"github.com/nousresearch/hermes-service/shared/backend"
	"github.com/nousresearch/hermes-service/shared/gateway"
)

// run runs an s6 tool; a failure is a *service.CommandFailedError naming
// the action, the exit code and what the tool said.
func (b *Backend) run(ctx context.Context, slot string, name string, args ...string) (string, error) {
	res, err := b.RunTool(ctx, backend.Tool{Path: b.cfg.tool(name), Args: args, Service: slot,
		Action:      strings.TrimSpace(name + " " + strings.Join(flagsOf(args), " ")),
		MissingHint: "install s6 (apt-get install s6), or point " + gateway.EnvS6BinDir + " at the folder that holds " + name})
	return res.Stdout, err
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
