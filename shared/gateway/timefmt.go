package gateway

import (
	"encoding/json"
	"math"
	"strings"
	"time"
)

// pythonISO is how Python's datetime.now(timezone.utc).isoformat() writes a
// time: microseconds and a +00:00 offset.
const pythonISO = "2006-01-02T15:04:05.000000+00:00"

// isoNow is the current time as the Python side writes it.
func isoNow(now time.Time) string { return now.UTC().Format(pythonISO) }

// parseTimestamp reads a timestamp the Python side may have written: an ISO
// 8601 string (with Z, an offset, or none, which means UTC; any fraction), or
// a number of seconds since the epoch.
func parseTimestamp(raw json.RawMessage) (time.Time, bool) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return parseISO(s)
	}
	var f float64
	if json.Unmarshal(raw, &f) == nil && !math.IsNaN(f) && !math.IsInf(f, 0) && f > 0 {
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(frac*1e9)).UTC(), true
	}
	return time.Time{}, false
}

func parseISO(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}
