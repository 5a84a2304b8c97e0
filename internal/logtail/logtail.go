// Package logtail reads a gateway's log file for the backends that keep
// one (s6-log's current, launchd's StandardOutPath): the last lines, then
// new ones as they come, across the log's rotation.
package logtail

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"time"

	"github.com/nousresearch/hermes-service/shared/service"
)

// followPoll is how often a follow looks for new lines.
const followPoll = 100 * time.Millisecond

// Plain is the parse for logs without a timestamp prefix.
func Plain(line string) service.LogLine { return service.LogLine{Text: line} }

// File sends the last n lines of path to emit, each through parse, then,
// with follow, every line appended after them until ctx ends (not an
// error), reopening the file when it is rotated (another file under the
// name, or a shorter one). A file that does not exist yet has no lines; a
// follow waits for it.
func File(ctx context.Context, path string, n int, keepFollowing bool, parse func(string) service.LogLine, emit func(service.LogLine) error) error {
	f, err := open(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
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
			if err := emit(parse(l)); err != nil {
				f.Close()
				return err
			}
		}
	}
	if !keepFollowing {
		if f != nil {
			f.Close()
		}
		return nil
	}
	return follow(ctx, path, f, offset, parse, emit)
}

// follow emits lines appended to path from offset, reopening the file when
// s6-log rotates it (another inode) or it shrinks.
func follow(ctx context.Context, path string, f *os.File, offset int64, parse func(string) service.LogLine, emit func(service.LogLine) error) error {
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
			if nf, err := open(path); err == nil {
				f, offset, partial = nf, 0, ""
			}
		}
		if f != nil {
			if rotated(f, path, offset) {
				// Finish the old file, then start on the new one.
				if err := drain(f, &offset, &partial, parse, emit); err != nil {
					return err
				}
				f.Close()
				f = nil
				continue
			}
			if err := drain(f, &offset, &partial, parse, emit); err != nil {
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
func drain(f *os.File, offset *int64, partial *string, parse func(string) service.LogLine, emit func(service.LogLine) error) error {
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
			if err := emit(parse(full)); err != nil {
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
