//go:build !windows

package s6

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nousresearch/hermes-service/shared/service"
)

// logFile is s6-log's current file for the profile.
func (c Config) logFile(profile string) string {
	return filepath.Join(c.Home, "logs", "gateways", profile, "current")
}

// followPoll is how often a follow looks for new lines.
const followPoll = 100 * time.Millisecond

// defaultLogLines is what Logs sends when asked for 0 lines.
const defaultLogLines = 50

// Logs sends the tail of s6-log's current file, then follows it across
// rotations (s6-log renames current and starts a new one).
func (b *Backend) Logs(ctx context.Context, profile string, opts service.LogOptions, emit func(service.LogLine) error) error {
	path := b.cfg.logFile(profile)
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		if !b.registered(profile) {
			return b.notRegistered(profile)
		}
		if !opts.Follow {
			return nil // registered, nothing logged yet
		}
	} else if err != nil {
		return err
	}
	n := opts.Lines
	if n <= 0 {
		n = defaultLogLines
	}
	var offset int64
	if f != nil {
		lines, end, err := tail(f, n)
		if err != nil {
			f.Close()
			return err
		}
		offset = end
		for _, l := range lines {
			if err := emit(parseLogLine(l)); err != nil {
				f.Close()
				return err
			}
		}
	}
	if !opts.Follow {
		if f != nil {
			f.Close()
		}
		return nil
	}
	return b.follow(ctx, path, f, offset, emit)
}

// follow emits lines appended to path from offset, reopening the file when
// s6-log rotates it (another inode) or it shrinks.
func (b *Backend) follow(ctx context.Context, path string, f *os.File, offset int64, emit func(service.LogLine) error) error {
	defer func() {
		if f != nil {
			f.Close()
		}
	}()
	var partial string
	tick := time.NewTicker(followPoll)
	defer tick.Stop()
	for {
		if f == nil {
			if nf, err := os.Open(path); err == nil {
				f, offset, partial = nf, 0, ""
			}
		}
		if f != nil {
			if rotated(f, path, offset) {
				// Finish the old file, then start on the new one.
				if err := drain(f, &offset, &partial, emit); err != nil {
					return err
				}
				f.Close()
				f = nil
				continue
			}
			if err := drain(f, &offset, &partial, emit); err != nil {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// rotated reports whether path now names another file than f, or f shrank.
func rotated(f *os.File, path string, offset int64) bool {
	cur, err := os.Stat(path)
	if err != nil {
		return false
	}
	open, err := f.Stat()
	if err != nil {
		return true
	}
	if !os.SameFile(cur, open) {
		return true
	}
	return open.Size() < offset
}

// drain emits the complete lines after offset.
func drain(f *os.File, offset *int64, partial *string, emit func(service.LogLine) error) error {
	if _, err := f.Seek(*offset, io.SeekStart); err != nil {
		return err
	}
	r := bufio.NewReader(f)
	for {
		line, err := r.ReadString('\n')
		*offset += int64(len(line))
		if strings.HasSuffix(line, "\n") {
			full := *partial + strings.TrimSuffix(line, "\n")
			*partial = ""
			if err := emit(parseLogLine(full)); err != nil {
				return err
			}
		} else {
			*partial += line
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

// tail returns the last n complete lines of f and the offset after them,
// reading backwards in blocks so a long log costs what n lines cost.
func tail(f *os.File, n int) ([]string, int64, error) {
	info, err := f.Stat()
	if err != nil {
		return nil, 0, err
	}
	size := info.Size()
	const block = 64 << 10
	var buf []byte
	pos := size
	for pos > 0 && strings.Count(string(buf), "\n") <= n {
		start := max(0, pos-block)
		chunk := make([]byte, pos-start)
		if _, err := f.ReadAt(chunk, start); err != nil && !errors.Is(err, io.EOF) {
			return nil, 0, err
		}
		buf = append(chunk, buf...)
		pos = start
	}
	text := string(buf)
	end := size
	if i := strings.LastIndexByte(text, '\n'); i < len(text)-1 {
		// An unfinished last line waits for the follow.
		end = size - int64(len(text)-1-i)
		text = text[:i+1]
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if text == "" {
		lines = nil
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines, end, nil
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
