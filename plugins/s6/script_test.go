//go:build linux

package s6

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/nousresearch/hermes-service/shared/gateway"
	"github.com/nousresearch/hermes-service/shared/service"
)

// hostileValues are what a home, a program's folder or an environment
// value may hold that a shell would otherwise act on.
var hostileValues = []string{
	"$(touch PWNED)", "`touch PWNED2`", "}", `"`, "'", `\`, "with space", "new\nline", "tab\there",
	"100%", "%s", "$HOME", "${HOME}", "ünïcödé", "-lead", "a'b\"c${x}`d`\\e", "end\\", "*", "~", ";", "&", "|", "#",
}

// fakeProgram writes an executable sh script at path that writes, NUL
// separated, its arguments and the environment variables vars to $OUT.
func fakeProgram(t *testing.T, path string, vars ...string) {
	t.Helper()
	var b strings.Builder
	b.WriteString("#!/bin/sh\n{ for a in \"$@\"; do printf 'arg=%s\\0' \"$a\"; done\n")
	for _, v := range vars {
		b.WriteString("printf '" + v + "=%s\\0' \"$" + v + "\"\n")
	}
	b.WriteString("} > \"$OUT\"\n")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o755); err != nil {
		t.Fatal(err)
	}
}

// shells are the sh implementations the scripts are run with.
func shells(t *testing.T) []string {
	var out []string
	for _, sh := range []string{"/bin/sh", "/bin/dash", "/bin/bash", "/bin/busybox"} {
		if _, err := os.Stat(sh); err == nil {
			out = append(out, sh)
		}
	}
	if len(out) == 0 {
		t.Fatal("no sh")
	}
	return out
}

// runScript runs script with shell in a fresh working folder and the given
// environment, and returns what the fake program wrote, split at NULs.
func runScript(t *testing.T, shell, script string, env ...string) []string {
	t.Helper()
	work := t.TempDir()
	path := filepath.Join(work, "script")
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(work, "out")
	args := []string{path}
	if strings.HasSuffix(shell, "busybox") {
		args = []string{"sh", path}
	}
	cmd := exec.Command(shell, args...)
	cmd.Dir = work
	cmd.Env = append([]string{"PATH=/usr/bin:/bin", "OUT=" + out}, env...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s\nscript:\n%s", shell, err, b, script)
	}
	entries, _ := os.ReadDir(work)
	for _, e := range entries {
		if e.Name() != "script" && e.Name() != "out" {
			t.Errorf("%s: the script made %q in its working folder:\n%s", shell, e.Name(), script)
		}
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("%s: the program did not run: %v\nscript:\n%s", shell, err, script)
	}
	return strings.Split(strings.TrimSuffix(string(data), "\x00"), "\x00")
}

// TestRunScriptCarriesHostileValues renders run scripts whose home,
// program folder and environment hold each hostile value, runs them with
// every sh at hand, and checks the program gets exactly those values:
// nothing expanded, run, cut or moved.
func TestRunScriptCarriesHostileValues(t *testing.T) {
	for _, v := range hostileValues {
		t.Run(strings.ReplaceAll(v, "/", "slash"), func(t *testing.T) {
			base := t.TempDir()
			home := filepath.Join(base, "home "+v)
			bin := filepath.Join(base, "bin "+v)
			hermes := filepath.Join(bin, "hermes")
			fakeProgram(t, hermes, "HERMES_HOME", "HOME", "GREETING", "EMPTY", gateway.EnvSupervisedChild)
			fakeProgram(t, filepath.Join(bin, "s6-setuidgid"))
			c := Config{User: "", BinDir: bin}
			c.Home = home
			argv := []string{hermes, "-p", "work", "gateway", "run", "--protocol", "plain", "--", "/bin/prog", v, ""}
			env := map[string]string{"GREETING": v, "EMPTY": ""}
			if err := c.checkValues(argv, env); err != nil {
				t.Fatalf("refused: %v", err)
			}
			script := c.renderRun("work", argv, env)
			want := []string{}
			for _, a := range argv[1:] {
				want = append(want, "arg="+a)
			}
			want = append(want, "HERMES_HOME="+home, "HOME="+home, "GREETING="+v, "EMPTY=", gateway.EnvSupervisedChild+"=1")
			for _, sh := range shells(t) {
				if got := runScript(t, sh, script); !reflect.DeepEqual(got, want) {
					t.Errorf("%s: got %q\nwant %q\nscript:\n%s", sh, got, want, script)
				}
				// The home the container's environment gives wins, as given.
				other := filepath.Join(base, "other "+v)
				got := runScript(t, sh, script, gateway.EnvHome+"="+other)
				if got[len(argv)-1] != "HERMES_HOME="+other || got[len(argv)] != "HOME="+other {
					t.Errorf("%s: with HERMES_HOME=%q: %q", sh, other, got)
				}
			}
		})
	}
}

// TestRunScriptDropsToAHostileUserName: the service user and the
// s6-setuidgid path reach s6-setuidgid as single words.
func TestRunScriptDropsToAHostileUserName(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the run script drops privileges only as root")
	}
	base := t.TempDir()
	bin := filepath.Join(base, "bin $(x) 'q'")
	hermes := filepath.Join(base, "hermes")
	fakeProgram(t, hermes)
	// The fake s6-setuidgid records its account and runs the rest.
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "s6-setuidgid"), []byte("#!/bin/sh\nprintf 'user=%s\\0' \"$1\" > \"$OUT.user\"\nshift\nexec \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, user := range []string{"hermes", "we$ird'user\"`x`", "ünï"} {
		c := Config{User: user, BinDir: bin}
		c.Home = "/h"
		script := c.renderRun("work", []string{hermes, "gateway", "run"}, nil)
		for _, sh := range shells(t) {
			work := t.TempDir()
			path := filepath.Join(work, "run")
			if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(work, "out")
			args := []string{path}
			if strings.HasSuffix(sh, "busybox") {
				args = []string{"sh", path}
			}
			cmd := exec.Command(sh, args...)
			cmd.Env = []string{"PATH=/usr/bin:/bin", "OUT=" + out}
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%s: %v\n%s", sh, err, b)
			}
			got, _ := os.ReadFile(out + ".user")
			args2, _ := os.ReadFile(out)
			if string(got) != "user="+user+"\x00" || string(args2) != "arg=gateway\x00arg=run\x00" {
				t.Errorf("%s: user %q, args %q\n%s", sh, got, args2, script)
			}
		}
	}
}

// TestLogScriptCarriesHostileHomes: the logger's folder reaches mkdir and
// s6-log as one word, made where the home says.
func TestLogScriptCarriesHostileHomes(t *testing.T) {
	for _, v := range hostileValues {
		t.Run(strings.ReplaceAll(v, "/", "slash"), func(t *testing.T) {
			base := t.TempDir()
			home := filepath.Join(base, "home "+v)
			bin := filepath.Join(base, "bin "+v)
			fakeProgram(t, filepath.Join(bin, "s6-log"))
			c := Config{BinDir: bin}
			c.Home = home
			script := c.renderLogRun("work")
			want := []string{"arg=1", "arg=n10", "arg=s1000000", "arg=T", "arg=" + filepath.Join(home, "logs", "gateways", "work")}
			for _, sh := range shells(t) {
				if got := runScript(t, sh, script); !reflect.DeepEqual(got, want) {
					t.Errorf("%s: got %q, want %q\nscript:\n%s", sh, got, want, script)
				}
				if info, err := os.Stat(filepath.Join(home, "logs", "gateways", "work")); err != nil || !info.IsDir() {
					t.Errorf("%s: the log folder was not made: %v", sh, err)
				}
			}
		})
	}
}

// TestScriptsUnderWithContenv: with s6-overlay's with-contenv in the tool
// folder, the scripts' #! line names it and they still carry the values.
func TestScriptsUnderWithContenv(t *testing.T) {
	base := t.TempDir()
	bin := filepath.Join(base, "command")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	// with-contenv runs what follows it (the real one imports the
	// container's environment first).
	if err := os.WriteFile(filepath.Join(bin, "with-contenv"), []byte("#!/bin/sh\nexec \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	hermes := filepath.Join(base, "hermes $(x)")
	fakeProgram(t, hermes, "HERMES_HOME")
	home := filepath.Join(base, "a home `with` $things\n'")
	c := Config{BinDir: bin}
	c.Home = home
	if err := c.checkValues([]string{hermes}, nil); err != nil {
		t.Fatal(err)
	}
	script := c.renderRun("work", []string{hermes, "gateway", "run"}, nil)
	if !strings.HasPrefix(script, "#!"+filepath.Join(bin, "with-contenv")+" sh\n") {
		t.Fatalf("#! line:\n%s", script)
	}
	work := t.TempDir()
	path := filepath.Join(work, "run")
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(path) // the kernel reads the #! line
	cmd.Dir = work
	cmd.Env = []string{"PATH=/usr/bin:/bin", "OUT=" + filepath.Join(work, "out")}
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	got, _ := os.ReadFile(filepath.Join(work, "out"))
	if want := "arg=gateway\x00arg=run\x00HERMES_HOME=" + home + "\x00"; string(got) != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// TestCheckValuesRefusals: what the scripts cannot carry is an
// *InvalidOptionError (exit 2), naming the option.
func TestCheckValuesRefusals(t *testing.T) {
	base := t.TempDir()
	spaced := filepath.Join(base, "with space")
	if err := os.MkdirAll(spaced, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(spaced, "with-contenv"), nil, 0o755); err != nil {
		t.Fatal(err)
	}
	long := filepath.Join(base, strings.Repeat("d", 250))
	if err := os.MkdirAll(long, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(long, "with-contenv"), nil, 0o755); err != nil {
		t.Fatal(err)
	}
	good := func() Config { c := Config{}; c.Home = "/home/h"; return c }
	for _, tt := range []struct {
		name   string
		edit   func(*Config)
		argv   []string
		env    map[string]string
		option string
	}{
		{"empty home", func(c *Config) { c.Home = "" }, nil, nil, "home"},
		{"relative home", func(c *Config) { c.Home = "rel/home" }, nil, nil, "home"},
		{"relative HERMES_S6_HERMES", func(c *Config) { c.Hermes = "-x" }, nil, nil, gateway.EnvS6Hermes},
		{"relative program", nil, []string{"hermes", "gateway", "run"}, nil, "command"},
		{"no program", nil, []string{}, nil, "command"},
		{"bad env key", nil, nil, map[string]string{"A=$(x)": "v"}, "env"},
		{"NUL in an env value", nil, nil, map[string]string{"A": "a\x00b"}, "env"},
		{"relative tool folder", func(c *Config) { c.BinDir = "command" }, nil, nil, gateway.EnvS6BinDir},
		{"white space in the #! line", func(c *Config) { c.BinDir = spaced }, nil, nil, gateway.EnvS6BinDir},
		{"a #! line too long", func(c *Config) { c.BinDir = long }, nil, nil, gateway.EnvS6BinDir},
		{"an option for a user", func(c *Config) { c.User = "-e" }, nil, nil, gateway.EnvS6User},
		{"a space in a user", func(c *Config) { c.User = "a b" }, nil, nil, gateway.EnvS6User},
		{"a newline in a user", func(c *Config) { c.User = "a\nb" }, nil, nil, gateway.EnvS6User},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := good()
			if tt.edit != nil {
				tt.edit(&c)
			}
			argv := tt.argv
			if argv == nil {
				argv = []string{"/usr/bin/hermes", "gateway", "run"}
			}
			err := c.checkValues(argv, tt.env)
			var inv *service.InvalidOptionError
			if !errors.As(err, &inv) || inv.Option != tt.option {
				t.Fatalf("got %v, want an invalid %s", err, tt.option)
			}
		})
	}
	// A #! line without with-contenv is plain /bin/sh: any folder will do.
	c := good()
	c.BinDir = filepath.Join(base, "no contenv here")
	if err := c.checkValues([]string{"/usr/bin/hermes"}, map[string]string{"V": "\n$(x)"}); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix([]byte(c.renderRun("work", []string{"/usr/bin/hermes"}, nil)), []byte("#!/bin/sh\n")) {
		t.Fatal("#! line")
	}
}
