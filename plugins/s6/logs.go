//go:build !windows

package s6

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nousresearch/hermes-service/internal/logtail"
	"github.com/nousresearch/hermes-service/shared/backend"
	"github.com/nousresearch/hermes-service/shared/service"
)

// logFile is s6-log's current file for the profile.
func (c Config) logFile(profile string) string {
	return filepath.Join(c.Home, "logs", "gateways", profile, "current")
}

// Logs sends the tail of s6-log's current file, then follows it across
// rotations (s6-log renames current and starts a new one).
func (b *Backend) Logs(ctx context.Context, profile string, opts service.LogOptions, emit func(service.LogLine) error) error {
	path := b.cfg.logFile(profile)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) && !b.registered(profile) {
		return b.notRegistered(profile)
	}
	return logtail.File(ctx, path, backend.LogLines(opts.Lines), opts.Follow, parseLogLine, emit)
}

// parseLogLine splits s6-log's T prefix (an ISO 8601 UTC time, then two
// spaces) from the text.
func parseLogLine(line string) service.LogLine {
	if i := strings.Index(line, "  "); i >= 19 {
		for _, layout := range []string{"2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999"} {
			if t, err := time.Parse(layout, line[:i]); err == nil {
				return service.LogLine{Time: t.UTC(), Text: line[i+2:]}
			}
		}
	}
	return service.LogLine{Text: line}
}
