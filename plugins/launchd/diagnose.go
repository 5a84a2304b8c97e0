package launchd

import (
	"context"
	"strings"

	"github.com/nousresearch/hermes-service/shared/service"
)

// Diagnose checks that launchctl answers, and says which domain this
// backend puts jobs in: root's are system daemons, a user's go to gui/<uid>
// in a GUI (Aqua) session and to user/<uid> otherwise.
func (b *Backend) Diagnose(ctx context.Context, _ service.DiagnoseOptions) ([]service.Finding, error) {
	out, _, err := b.launchctl(ctx, "", "managername")
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err != nil {
		return []service.Finding{{Check: "launchd domain", Severity: service.SeverityError, Detail: err.Error(),
			Fix: "run hermes on macOS, in the user's session"}}, nil
	}
	domain := "system"
	if !b.cfg.Root {
		domain = b.domain(ctx)
	}
	return []service.Finding{{Check: "launchd domain", Severity: service.SeverityOK,
		Detail: domain + " (session " + strings.TrimSpace(out) + ")"}}, nil
}
