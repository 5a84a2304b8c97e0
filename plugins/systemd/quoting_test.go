//go:build linux

package systemd

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/nousresearch/hermes-service/shared/gateway"
	"github.com/nousresearch/hermes-service/shared/service"
)

// hostileValues are what a home, a program's folder, an argument or an
// environment value may hold that systemd's syntax would otherwise act on.
var hostileValues = []string{
	"$(touch PWNED)", "`touch PWNED2`", "}", `"`, "'", `\`, "with space", "tab\there", "100%", "%h %i %%",
	"$HOME", "${HOME}", "$$", "ünïcödé", "-lead", "a'b\"c${x}`d`\\e", ";", "#", "a\x01b", "a\x7fb", "\\n",
}

// lineBreaking values are fine in quoted words but not in a path systemd
// takes as the rest of a line.
var lineBreaking = []string{"new\nline", "cr\rhere", "end\\", "trail ", "tab\t"}

// systemdDump has systemd itself load the unit (systemd --test, which
// loads the units as the manager would and dumps them) and returns the
// unit's section of the dump. systemd refuses test mode as root: it runs
// as nobody then.
func systemdDump(t *testing.T, name string, data []byte) string {
	t.Helper()
	systemd := "/lib/systemd/systemd"
	if _, err := os.Stat(systemd); err != nil {
		t.Skip("systemd is not installed (Debian package systemd; make test installs it)")
	}
	// systemd unescapes the backslashes of SYSTEMD_UNIT_PATH.
	dir := plainTemp(t)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(systemd, "--test", "--system", "--unit="+name, "--log-target=console")
	// The trailing ':' keeps systemd's own folders (the targets a system
	// boot needs) after ours.
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + dir, "SYSTEMD_UNIT_PATH=" + dir + ":"}
	if os.Geteuid() == 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	}
	out, _ := cmd.CombinedOutput()
	text := string(out)
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, dir) {
			t.Errorf("systemd: %s", line)
		}
	}
	start := strings.Index(text, "\t-> Unit "+name+":\n")
	if start < 0 {
		t.Fatalf("systemd did not load %s:\n%s", name, text)
	}
	text = text[start+1:]
	if end := strings.Index(text, "\n\t-> Unit "); end >= 0 {
		text = text[:end+1]
	}
	return text
}

// plainTemp is a temporary folder whose name holds nothing the tests
// treat as hostile (t.TempDir's follows the test's name).
func plainTemp(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "hermes-unit-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// dumpCommand reads a "Command Line:" of systemd's dump back into words:
// systemd prints each word bare or double-quoted with C escapes (octal for
// control characters) and \$ and \` for what a shell would expand.
func dumpCommand(t *testing.T, line string) []string {
	t.Helper()
	var words []string
	for i := 0; i < len(line); {
		if line[i] == ' ' {
			i++
			continue
		}
		var w strings.Builder
		if line[i] != '"' {
			for i < len(line) && line[i] != ' ' {
				w.WriteByte(line[i])
				i++
			}
			words = append(words, w.String())
			continue
		}
		for i++; i < len(line) && line[i] != '"'; i++ {
			if line[i] != '\\' {
				w.WriteByte(line[i])
				continue
			}
			i++
			switch c := line[i]; {
			case c >= '0' && c <= '7':
				n, err := strconv.ParseUint(line[i:i+3], 8, 8)
				if err != nil {
					t.Fatalf("escape in %q: %v", line, err)
				}
				w.WriteByte(byte(n))
				i += 2
			case strings.IndexByte("ntrabfv", c) >= 0:
				w.WriteByte("\n\t\r\a\b\f\v"[strings.IndexByte("ntrabfv", c)])
			default: // \\ \" \$ \`
				w.WriteByte(c)
			}
		}
		i++
		words = append(words, w.String())
	}
	return words
}

// dumpLines are the values of every "name: " line of a unit's dump, a
// value running on over the raw newlines systemd prints until the next
// line that starts with a tab.
func dumpLines(dump, name string) []string {
	var out []string
	lines := strings.Split(dump, "\n")
	for i := 0; i < len(lines); i++ {
		v, ok := strings.CutPrefix(strings.TrimLeft(lines[i], "\t"), name+": ")
		if !ok {
			continue
		}
		for i+1 < len(lines) && !strings.HasPrefix(lines[i+1], "\t") {
			i++
			v += "\n" + lines[i]
		}
		out = append(out, v)
	}
	return out
}

// TestSystemdReadsHostileValuesBack: every hostile value, in the home, the
// program's folder, an argument and the environment, reaches systemd as
// given, read by systemd itself: ExecStart's words (its $ still doubled:
// systemd turns $$ into $ when it runs the line), the environment, the
// working folder.
func TestSystemdReadsHostileValuesBack(t *testing.T) {
	for _, v := range hostileValues {
		t.Run(strconv.Quote(v), func(t *testing.T) {
			base := plainTemp(t)
			home := filepath.Join(base, "home "+v)
			hermes := filepath.Join(base, "bin "+v, "hermes")
			if programProblem(hermes) != "" {
				// Refused (TestUnitRefusesWhatSystemdCannotRead); the
				// value still goes everywhere else.
				hermes = filepath.Join(base, "bin", "hermes")
			}
			spec := unitSpec{Profile: "work", Home: home, ProfileDir: filepath.Join(home, "profiles", "work"),
				Command: gateway.RunnerArgv(hermes, "work", "--protocol", "plain", "--", "/bin/prog", v, "", "-"+v),
				Env:     map[string]string{"GREETING": v, "EMPTY": ""}}
			for _, system := range []bool{false, true} {
				spec.System = system
				if system {
					spec.User, spec.Group, spec.UserHome = "daemon", "daemon", "/home "+v
				}
				data, err := spec.render()
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				dump := systemdDump(t, UnitName("work"), data)
				cmds := dumpLines(dump, "Command Line")
				if len(cmds) != 3 {
					t.Fatalf("commands %q in:\n%s", cmds, dump)
				}
				got := dumpCommand(t, cmds[0])
				want := make([]string, len(spec.Command))
				for i, w := range spec.Command {
					want[i] = strings.ReplaceAll(w, "$", "$$")
				}
				want[0] = hermes // run as written, never expanded
				if strings.Join(got, "\x00") != strings.Join(want, "\x00") {
					t.Errorf("ExecStart came back as\n%q, want\n%q\nunit:\n%s", got, want, data)
				}
				// ExecStartPost's wait-ready and ExecStop's mark-stop run the
				// same program for the main pid.
				for _, c := range cmds[1:] {
					if line := dumpCommand(t, c); line[0] != want[0] || line[len(line)-1] != "$MAINPID" {
						t.Errorf("ExecStartPost or ExecStop came back as %q", line)
					}
				}
				env := map[string]bool{}
				for _, e := range dumpLines(dump, "Environment") {
					env[e] = true
				}
				for _, e := range []string{"GREETING=" + v, "EMPTY=", gateway.EnvHome + "=" + home} {
					if !env[e] {
						t.Errorf("environment lacks %q: %q\nunit:\n%s", e, dumpLines(dump, "Environment"), data)
					}
				}
				if system && !env["HOME=/home "+v] {
					t.Errorf("environment lacks the user's HOME: %q", dumpLines(dump, "Environment"))
				}
				if wd := dumpLines(dump, "WorkingDirectory"); len(wd) != 1 || wd[0] != spec.ProfileDir {
					t.Errorf("WorkingDirectory came back as %q, want %q\nunit:\n%s", wd, spec.ProfileDir, data)
				}
			}
		})
	}
}

// TestUnitRefusesWhatSystemdCannotRead: a value systemd cannot be given as
// asked is an *InvalidOptionError naming its option, and no unit is made.
func TestUnitRefusesWhatSystemdCannotRead(t *testing.T) {
	good := func() unitSpec {
		return unitSpec{Profile: "work", Home: "/h", ProfileDir: "/h/profiles/work", Command: gateway.RunnerArgv("/usr/bin/hermes", "work"),
			System: true, User: "daemon", Group: "daemon", UserHome: "/usr/sbin"}
	}
	type tc struct {
		name   string
		edit   func(*unitSpec)
		option string
	}
	cases := []tc{
		{"a relative program", func(u *unitSpec) { u.Command[0] = "hermes" }, "command"},
		{"a program read as a prefix", func(u *unitSpec) { u.Command[0] = "-/usr/bin/hermes" }, "command"},
		{"no program", func(u *unitSpec) { u.Command = nil }, "command"},
		{"an argument not UTF-8", func(u *unitSpec) { u.Command = append(u.Command, "a\xffb") }, "command"},
		{"a home not UTF-8", func(u *unitSpec) { u.Home, u.ProfileDir = "/h\xff", "/h\xff" }, "home"},
		{"an env value not UTF-8", func(u *unitSpec) { u.Env = map[string]string{"A": "\xfe"} }, "env"},
		{"a user with a newline", func(u *unitSpec) { u.User = "dae\nmon" }, "run-as-user"},
		{"a user home not UTF-8", func(u *unitSpec) { u.UserHome = "/home/\xff" }, "run-as-user"},
	}
	for _, v := range []string{`"`, "'", `\`, "\x01", "\n", "\x7f", "${HOME}", "$$"} {
		cases = append(cases, tc{"a program path with " + strconv.Quote(v), func(u *unitSpec) { u.Command[0] = "/opt/a" + v + "b/hermes" }, "command"})
	}
	for _, v := range lineBreaking {
		cases = append(cases, tc{"a home with " + strconv.Quote(v), func(u *unitSpec) { u.Home = "/h/" + v; u.ProfileDir = u.Home }, "home"})
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			u := good()
			tt.edit(&u)
			data, err := u.render()
			var inv *service.InvalidOptionError
			if !errors.As(err, &inv) || inv.Option != tt.option || data != nil {
				t.Fatalf("got %v, want an invalid %s", err, tt.option)
			}
		})
	}
	// Line breaks are fine where systemd unquotes: arguments, environment.
	u := good()
	u.Command = append(u.Command, lineBreaking...)
	u.Env = map[string]string{"A": strings.Join(lineBreaking, "")}
	data, err := u.render()
	if err != nil {
		t.Fatal(err)
	}
	got := dumpCommand(t, dumpLines(systemdDump(t, UnitName("work"), data), "Command Line")[0])
	if strings.Join(got[len(got)-len(lineBreaking):], "\x00") != strings.Join(lineBreaking, "\x00") {
		t.Fatalf("arguments came back as %q", got)
	}
}
