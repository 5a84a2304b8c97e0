package boot

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nousresearch/hermes-service/shared/gateway"
)

var at = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// TestAuditLineKeepsUpstreamsFormat: every state upstream records, and no
// state, come out byte for byte as upstream's reconciler writes them.
func TestAuditLineKeepsUpstreamsFormat(t *testing.T) {
	for _, tt := range []struct {
		e    Entry
		want string
	}{
		{Entry{Profile: "default"}, "2026-11-26T12:00:00+0000 profile=default prior_state=None action=registered"},
		{Entry{Profile: "alpha", Prior: "running"}, "2026-11-26T12:00:00+0000 profile=alpha prior_state=running action=started"},
		{Entry{Profile: "beta", Prior: "stopped"}, "2026-11-26T12:00:00+0000 profile=beta prior_state=stopped action=registered"},
		{Entry{Profile: "work-2_x", Prior: "startup_failed"}, "2026-11-26T12:00:00+0000 profile=work-2_x prior_state=startup_failed action=registered"},
		{Entry{Profile: "w", Prior: "stopping"}, "2026-11-26T12:00:00+0000 profile=w prior_state=stopping action=registered"},
	} {
		if got := AuditLine(tt.e, at); got != tt.want {
			t.Errorf("got  %q\nwant %q", got, tt.want)
		}
	}
}

// TestAuditLineEscapesHostileStates: a recorded state the home's owner
// wrote cannot forge a line or a field: it is one field, on one line, of
// printable ASCII, and reads back with strconv.Unquote.
func TestAuditLineEscapesHostileStates(t *testing.T) {
	for _, prior := range []string{
		"running\n2026-11-26T12:00:00+0000 profile=root prior_state=running action=started",
		"running action=started", "a\rb", "\x1b[2Kfake", "tab\there", "ünï", "\u2028", `"quoted"`, `back\slash`,
		"x=y", "bad\xffutf", "\x00", "None ", " ", "running\x85",
	} {
		line := AuditLine(Entry{Profile: "work", Prior: prior}, at)
		fields := strings.Split(line, " ")
		if len(fields) != 4 || fields[1] != "profile=work" || !strings.HasPrefix(fields[2], "prior_state=") || fields[3] != "action=registered" {
			t.Errorf("%q: fields %q", prior, fields)
			continue
		}
		for _, r := range line {
			if r < 0x20 || r >= 0x7f {
				t.Errorf("%q: %q holds %q", prior, line, r)
			}
		}
		back, err := strconv.Unquote(strings.TrimPrefix(fields[2], "prior_state="))
		if err != nil || back != prior {
			t.Errorf("%q: read back %q (%v)", prior, back, err)
		}
	}
	// A state that is running starts the gateway whatever it holds; only
	// the exact word does.
	if line := AuditLine(Entry{Profile: "work", Prior: "running"}, at); !strings.HasSuffix(line, " prior_state=running action=started") {
		t.Error(line)
	}
}

// TestEntriesQuoteAHostileFolderName: a folder under profiles/ whose name
// is no profile name is skipped with a warning that names it quoted, on
// one line.
func TestEntriesQuoteAHostileFolderName(t *testing.T) {
	root := t.TempDir()
	name := "evil\n2026-11-26T12:00:00+0000 profile=root prior_state=running action=started"
	if err := os.MkdirAll(filepath.Join(root, "profiles", name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "profiles", name, soulFile), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var warn strings.Builder
	entries, err := Entries(gateway.Home{Root: root}, &warn)
	if err != nil || len(entries) != 1 {
		t.Fatalf("%v %v", entries, err)
	}
	if got := warn.String(); strings.Count(got, "\n") != 1 || !strings.Contains(got, strconv.Quote(filepath.Join(root, "profiles", name))) {
		t.Fatalf("warning %q", got)
	}
}
