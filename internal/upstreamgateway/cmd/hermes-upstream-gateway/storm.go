package main

import (
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// stormLog is upstream's ledger of gateway starts in a home.
const stormLog = "gateway-starts.log"

// respawnBackoff is record_start_and_check_storm: record this start in the
// home's ledger and say how long to back off when more than maxStarts
// starts fell within window (0: no storm). Bookkeeping failures never
// block a start.
func respawnBackoff(dir string, maxStarts int, window time.Duration) time.Duration {
	if maxStarts <= 0 {
		return 0
	}
	path := filepath.Join(dir, stormLog)
	now := float64(time.Now().UnixNano()) / 1e9
	var starts []float64
	if data, err := os.ReadFile(path); err == nil {
		for _, line := range strings.Split(strings.TrimPrefix(string(data), "\ufeff"), "\n") {
			if f, err := strconv.ParseFloat(strings.TrimSpace(line), 64); err == nil {
				starts = append(starts, f)
			}
		}
	}
	starts = append(starts, now)
	recent := 0
	for _, s := range starts {
		if now-s <= window.Seconds() {
			recent++
		}
	}
	if keep := max(maxStarts*4, 40); len(starts) > keep {
		starts = starts[len(starts)-keep:]
	}
	var b strings.Builder
	for _, s := range starts {
		b.WriteString(pyFloat(s) + "\n")
	}
	tmp := strings.TrimSuffix(path, filepath.Ext(path)) + ".tmp"
	if os.MkdirAll(dir, 0o755) == nil && os.WriteFile(tmp, []byte(b.String()), 0o644) == nil {
		_ = os.Rename(tmp, path)
	}
	if recent <= maxStarts {
		return 0
	}
	backoff := 5 * math.Pow(2, float64(min(recent-maxStarts, 6)))
	return time.Duration(min(backoff, 300) * float64(time.Second))
}

// pyFloat is repr(float) for a timestamp: always a decimal point.
func pyFloat(f float64) string {
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}
