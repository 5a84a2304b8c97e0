//go:build !windows

package s6

import (
	"os/exec"
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
