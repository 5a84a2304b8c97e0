package detect

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

func TestManifests(t *testing.T) {
	runitMachine := fstest.MapFS{"proc/1/comm": {Data: []byte("runit\n")}, "etc/service": {Mode: 0o755 | os.ModeDir}}
	plainMachine := fstest.MapFS{"proc/1/comm": {Data: []byte("bash\n")}}
	runit := Manifest{Kind: "runit", Path: "/p/hermes-service-runit.detect", Proc1Comm: []string{"runit"}, Files: []string{"/etc/service"}}
	files := Manifest{Kind: "mine", Path: "/p/hermes-service-mine.detect", Files: []string{"/etc/mine"}}
	for _, tc := range []struct {
		name      string
		fs        fstest.MapFS
		manifests []Manifest
		wantKind  string
		wantWhy   string
		matched   []bool
	}{
		{"a matching manifest is used when no built-in fits", runitMachine, []Manifest{files, runit}, "runit",
			`runit: /proc/1/comm is "runit", /etc/service exists (its detection manifest /p/hermes-service-runit.detect)`, []bool{false, true}},
		{"comm not listed", plainMachine, []Manifest{runit}, "", "none:", []bool{false}},
		{"built-in probes come first", fstest.MapFS{"proc/1/comm": {Data: []byte("s6-svscan\n")}, "run/s6/basedir": {Mode: 0o755 | os.ModeDir},
			"etc/service": {Mode: 0o755 | os.ModeDir}}, []Manifest{{Kind: "runit", Files: []string{"/etc/service"}}}, "s6", "s6:", []bool{true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := Probe{FS: tc.fs, Getenv: func(string) string { return "" }, GOOS: "linux"}
			d, verdicts := p.DetectWith(ScopeUser, tc.manifests)
			if d.Kind != tc.wantKind || !strings.HasPrefix(d.Reason, tc.wantWhy) {
				t.Errorf("got %+v, want kind %q, reason %q...", d, tc.wantKind, tc.wantWhy)
			}
			for i, v := range verdicts {
				if v.Matched != tc.matched[i] {
					t.Errorf("manifest %d: matched %v (%s)", i, v.Matched, v.Reason)
				}
			}
		})
	}
}

func TestReadManifest(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ content, wantErr string }{
		{`{"proc1_comm": ["runit"], "files": ["/etc/service"]}`, ""},
		{`{}`, "declares nothing"},
		{`{"files": ["etc/service"]}`, "not an absolute path"},
		{`{"comm": ["runit"]}`, "unknown field"},
		{`not json`, "invalid character"},
	} {
		path := filepath.Join(dir, "m.detect")
		if err := os.WriteFile(path, []byte(tc.content), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := ReadManifest(path, "runit")
		if (tc.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("%s: got %v, want %q", tc.content, err, tc.wantErr)
		}
	}
}
