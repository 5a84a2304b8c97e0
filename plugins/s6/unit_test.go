//go:build !windows

package s6

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestShellQuoteRoundTripsThroughSh(t *testing.T) {
	values := []string{"", "plain", "with space", "it's", `"double"`, "$(touch x)", "`x`", "a\nb", "\\", "%s", "'", "''", "ünï", "$HOME"}
	for _, v := range values {
		out, err := exec.Command("/bin/sh", "-c", "printf %s "+shellQuote(v)).Output()
		if err != nil || string(out) != v {
			t.Errorf("%q came back as %q (%v)", v, out, err)
		}
	}
}

func TestParseSvstat(t *testing.T) {
	st, err := parseSvstat("true true false 4242 -1 @400000006b076c370624283f\n")
	if err != nil || !st.Up || !st.WantedUp || st.NormallyUp || st.PID != 4242 || st.ExitCode != -1 {
		t.Fatalf("%+v %v", st, err)
	}
	if want := time.Date(2026, 11, 25, 23, 15, 30, 0x0624283f, time.UTC); !st.Since.Equal(want) {
		t.Fatalf("since %v, want %v", st.Since, want)
	}
	for _, bad := range []string{"", "true true", "yes true true 1 -1 @400000006b076c370624283f", "true true true x -1 @400000006b076c370624283f", "true true true 1 -1 @4000"} {
		if _, err := parseSvstat(bad); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

func TestParseLogLine(t *testing.T) {
	l := parseLogLine("2026-11-25 23:17:55.930131457  test gateway started")
	if l.Text != "test gateway started" || !l.Time.Equal(time.Date(2026, 11, 25, 23, 17, 55, 930131457, time.UTC)) {
		t.Fatalf("%+v", l)
	}
	if l := parseLogLine("no timestamp  here"); l.Text != "no timestamp  here" || !l.Time.IsZero() {
		t.Fatalf("%+v", l)
	}
}

func TestTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "current")
	var b strings.Builder
	for i := range 5000 {
		b.WriteString(strings.Repeat("x", i%97) + "\n")
	}
	b.WriteString("unfinished")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(path)
	defer f.Close()
	lines, end, err := tail(f, 3)
	if err != nil || len(lines) != 3 || lines[2] != strings.Repeat("x", 4999%97) {
		t.Fatalf("%q %v", lines, err)
	}
	if info, _ := f.Stat(); end != info.Size()-int64(len("unfinished")) {
		t.Fatalf("end %d", end)
	}
	empty := filepath.Join(t.TempDir(), "empty")
	_ = os.WriteFile(empty, nil, 0o644)
	g, _ := os.Open(empty)
	defer g.Close()
	if lines, end, err := tail(g, 10); len(lines) != 0 || end != 0 || err != nil {
		t.Fatalf("empty: %q %d %v", lines, end, err)
	}
}
