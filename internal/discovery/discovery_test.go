package discovery

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/nousresearch/hermes-service/shared/gateway"
	"github.com/nousresearch/hermes-service/shared/plugin"
)

func writeExe(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
}

func TestSearchPathOrder(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the paths are Unix's")
	}
	t.Setenv("XDG_DATA_HOME", "/data")
	dirs := SearchPath("/a"+string(os.PathListSeparator)+string(os.PathListSeparator)+"/b"+string(os.PathListSeparator)+"/a", "/opt/hermes/bin/hermes")
	var got []string
	for _, d := range dirs {
		got = append(got, filepath.ToSlash(d.Path)+" "+d.Origin)
	}
	want := []string{
		"/a HERMES_PLUGIN_PATH",
		"/b HERMES_PLUGIN_PATH",
		"/opt/hermes/bin beside hermes",
		"/opt/hermes/lib/hermes/plugins beside hermes",
	}
	if runtime.GOOS == "linux" {
		want = append(want, "/data/hermes/plugins user", "/usr/local/lib/hermes/plugins system", "/usr/lib/hermes/plugins system")
	}
	if strings.Join(got[:len(want)], "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestFindFirstWins(t *testing.T) {
	root := t.TempDir()
	first, second := filepath.Join(root, "first"), filepath.Join(root, "second")
	writeExe(t, filepath.Join(second, plugin.FileName("s6", runtime.GOOS)))
	writeExe(t, filepath.Join(first, plugin.FileName("s6", runtime.GOOS)))
	if err := os.Mkdir(filepath.Join(first, plugin.FileName("systemd", runtime.GOOS)), 0o755); err != nil {
		t.Fatal(err)
	}
	writeExe(t, filepath.Join(second, plugin.FileName("systemd", runtime.GOOS)))
	s := Searcher{Dirs: []SearchDir{{first, gateway.EnvPluginPath}, {second, gateway.EnvPluginPath}}}

	c, _, err := s.Find("s6")
	if err != nil || c.Path != filepath.Join(first, plugin.FileName("s6", runtime.GOOS)) {
		t.Fatalf("got %+v %v", c, err)
	}
	c, notes, err := s.Find("systemd")
	if err != nil || c.Path != filepath.Join(second, plugin.FileName("systemd", runtime.GOOS)) {
		t.Fatalf("got %+v %v", c, err)
	}
	if len(notes) != 1 || !strings.Contains(notes[0].Reason, "folder named like a plugin") {
		t.Fatalf("notes %+v", notes)
	}
	_, _, err = s.Find("launchd")
	var np *NoPluginError
	if !errors.As(err, &np) || len(np.Searched) != 2 || !strings.Contains(np.Hint(), "hermes-service-launchd package") {
		t.Fatalf("got %v", err)
	}
	all, _ := s.All()
	if len(all) != 3 || all[0].Kind != "s6" || all[0].Shadowed || all[1].Kind != "s6" || !all[1].Shadowed || all[2].Kind != "systemd" {
		t.Fatalf("all: %+v", all)
	}
}

func TestRecordedChecksum(t *testing.T) {
	digest := strings.Repeat("ab", 32)
	want, _ := hex.DecodeString(digest)
	tests := []struct {
		name  string
		files map[string]string
		want  []byte
		file  string
		err   string
	}{
		{name: "none", files: nil},
		{name: "SHA256SUMS text mode", files: map[string]string{"SHA256SUMS": digest + "  hermes-service-s6\n"}, want: want, file: "SHA256SUMS"},
		{name: "SHA256SUMS binary mode", files: map[string]string{"SHA256SUMS": digest + " *hermes-service-s6\n"}, want: want, file: "SHA256SUMS"},
		{name: "SHA256SUMS for others only", files: map[string]string{"SHA256SUMS": digest + "  hermes-service-systemd\n"},
			err: "SHA256SUMS has no line for hermes-service-s6 (it lists hermes-service-systemd)"},
		{name: "empty SHA256SUMS", files: map[string]string{"SHA256SUMS": "\n"}, err: "SHA256SUMS has no line for hermes-service-s6 (it lists nothing)"},
		{name: "per-plugin file for another", files: map[string]string{"hermes-service-s6.sha256": digest + "  hermes-service-evil\n"},
			err: "hermes-service-s6.sha256 does not name it (it names hermes-service-evil)"},
		{name: "per-plugin file for another, SHA256SUMS for it", files: map[string]string{
			"hermes-service-s6.sha256": digest + "  hermes-service-evil\n", "SHA256SUMS": digest + "  hermes-service-s6\n"},
			err: "does not name it"},
		{name: "empty per-plugin file", files: map[string]string{"hermes-service-s6.sha256": "# nothing\n"}, err: "does not name it (it names nothing)"},
		{name: "per-plugin file naming it among others", files: map[string]string{
			"hermes-service-s6.sha256": strings.Repeat("cd", 32) + "  hermes-service-x\n" + digest + "  dist/hermes-service-s6\n"},
			want: want, file: "hermes-service-s6.sha256"},
		{name: "per-plugin file", files: map[string]string{"hermes-service-s6.sha256": digest + "  hermes-service-s6\n"}, want: want, file: "hermes-service-s6.sha256"},
		{name: "per-plugin bare digest", files: map[string]string{"hermes-service-s6.sha256": digest + "\n"}, want: want, file: "hermes-service-s6.sha256"},
		{name: "per-plugin wins", files: map[string]string{"hermes-service-s6.sha256": digest, "SHA256SUMS": strings.Repeat("cd", 32) + "  hermes-service-s6\n"}, want: want, file: "hermes-service-s6.sha256"},
		{name: "short digest", files: map[string]string{"SHA256SUMS": "abcd  hermes-service-s6\n"}, err: "is not a SHA-256 digest"},
		{name: "three fields", files: map[string]string{"SHA256SUMS": digest + " a b\n"}, err: "is not `<sha256>  <file>`"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for n, c := range tt.files {
				if err := os.WriteFile(filepath.Join(dir, n), []byte(c), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, file, err := recordedChecksum(dir, "hermes-service-s6")
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("got %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || !bytes.Equal(got, tt.want) || (tt.file != "" && filepath.Base(file) != tt.file) {
				t.Fatalf("got %x %q %v", got, file, err)
			}
		})
	}
}

func TestAllSkipsChecksumFiles(t *testing.T) {
	dir := t.TempDir()
	s6 := plugin.FileName("s6", runtime.GOOS)
	writeExe(t, filepath.Join(dir, s6))
	writeExe(t, filepath.Join(dir, s6+".sha256")) // executable, still not a plugin
	writeExe(t, filepath.Join(dir, "hermes"))
	digest := strings.Repeat("ab", 32)
	for _, f := range []string{s6 + ".sha256", "SHA256SUMS"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(digest+"  "+s6+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	all, notes := Searcher{Dirs: []SearchDir{{dir, gateway.EnvPluginPath}}}.All()
	if len(all) != 1 || all[0].Kind != "s6" || hex.EncodeToString(all[0].Checksum) != digest || len(notes) != 0 {
		t.Fatalf("all %+v, notes %+v", all, notes)
	}
}

func TestExamine(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the mode bits are Unix's")
	}
	tests := []struct {
		name    string
		mode    os.FileMode // 0: no file; ModeDir: a folder
		dirMode os.FileMode // the plugin's folder
		ok      bool
		refused string
	}{
		{name: "a plugin", mode: 0o755, dirMode: 0o755, ok: true},
		{name: "missing", dirMode: 0o755},
		{name: "a folder", mode: os.ModeDir | 0o755, dirMode: 0o755},
		{name: "not executable", mode: 0o644, dirMode: 0o755},
		{name: "world-writable file", mode: 0o757, dirMode: 0o755, ok: true, refused: "the file is world-writable"},
		{name: "world-writable folder", mode: 0o755, dirMode: 0o777, ok: true, refused: "is world-writable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "plugins")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, plugin.FileName("s6", runtime.GOOS))
			switch {
			case tt.mode.IsDir():
				if err := os.Mkdir(path, tt.mode.Perm()); err != nil {
					t.Fatal(err)
				}
			case tt.mode != 0:
				writeExe(t, path)
				if err := os.Chmod(path, tt.mode); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.Chmod(dir, tt.dirMode); err != nil { // chmod: the umask
				t.Fatal(err)
			}
			c, ok := Examine(path, "command line")
			if ok != tt.ok {
				t.Fatalf("ok %v, want %v (%+v)", ok, tt.ok, c)
			}
			if !ok {
				return
			}
			if c.Kind != "s6" || c.Path != path || c.Dir.Origin != "command line" {
				t.Fatalf("got %+v", c)
			}
			var refused *RefusedError
			switch {
			case tt.refused == "" && c.Refused != nil:
				t.Fatalf("refused: %v", c.Refused)
			case tt.refused != "" && (!errors.As(c.Refused, &refused) || !strings.Contains(refused.Reason, tt.refused)):
				t.Fatalf("refused %v, want a reason containing %q", c.Refused, tt.refused)
			}
		})
	}
}

// TestRelativeFoldersIgnored: a relative folder names another folder in
// every working directory, so it is left off the search path and reported.
func TestRelativeFoldersIgnored(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the paths are Unix's")
	}
	t.Setenv("XDG_DATA_HOME", "relative/data")
	sep := string(os.PathListSeparator)
	dirs, ignored := searchPath("."+sep+"/abs"+sep+"bin"+sep+"../up", "/opt/hermes/bin/hermes")
	for _, d := range dirs {
		if !filepath.IsAbs(d.Path) {
			t.Errorf("relative folder searched: %+v", d)
		}
	}
	if dirs[0].Path != "/abs" {
		t.Errorf("first folder %+v, want /abs", dirs[0])
	}
	var got []string
	for _, n := range ignored {
		got = append(got, n.Path)
		if !strings.Contains(n.Reason, "must be absolute") {
			t.Errorf("note %+v", n)
		}
	}
	if strings.Join(got, " ") != ". bin ../up relative/data/hermes/plugins" {
		t.Fatalf("ignored %q", got)
	}
	// What a relative entry would have found is not found: no plugin is
	// looked up relative to the working directory.
	dir := t.TempDir()
	writeExe(t, filepath.Join(dir, plugin.FileName("s6", runtime.GOOS)))
	t.Chdir(dir)
	dirs, _ = searchPath(".", "")
	if _, _, err := (Searcher{Dirs: dirs}).Find("s6"); err == nil {
		t.Fatal("found a plugin through a relative folder")
	}
}
