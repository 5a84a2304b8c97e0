package launchd

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"

	"github.com/nousresearch/hermes-service/shared/gateway"
	"github.com/nousresearch/hermes-service/shared/service"
)

// hostileValues are what a home, a program's folder, an argument or an
// environment value may hold that a shell, XML or a plist would otherwise
// act on.
var hostileValues = []string{
	"$(touch PWNED)", "`touch PWNED2`", "}", `"`, "'", `\`, "with space", "new\nline", "tab\there", "cr\rhere", "crlf\r\n",
	"100%", "%s %n", "$HOME", "${HOME}", "ünïcödé 日本語 🙂", "", "-lead", "<key>x</key>", "&amp; &", "]]>", "<!-- -->",
	"<?xml?>", "a\x7fb", "\u2028\u2029", "\ufeffbom",
}

// plistlib reads a plist as Python's plistlib does (the Python gateway's
// reader), as JSON.
func plistlib(t *testing.T, data []byte) map[string]any {
	t.Helper()
	path := filepath.Join(t.TempDir(), "job.plist")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("python3", "-c",
		`import plistlib,sys,json; print(json.dumps(plistlib.load(open(sys.argv[1],"rb"))))`, path).Output()
	if err != nil {
		t.Fatalf("plistlib rejected the plist: %v\n%s", err, data)
	}
	var py map[string]any
	if err := json.Unmarshal(out, &py); err != nil {
		t.Fatal(err)
	}
	return py
}

// TestPlistCarriesHostileValues: every hostile value, in every string the
// job holds, reads back as given, by howett.net/plist and by plistlib.
func TestPlistCarriesHostileValues(t *testing.T) {
	for _, v := range hostileValues {
		t.Run(strconv.Quote(v), func(t *testing.T) {
			home := "/Users/ada/home " + v
			dir := filepath.Join(home, "profiles", "work")
			j := job{Label: Label("work"), ProgramArguments: programArguments(gateway.RunnerArgv("/opt/bin "+v+"/hermes", "work", "--", "/bin/prog", v, "")),
				WorkingDirectory: dir, EnvironmentVariables: map[string]string{gateway.EnvHome: home, "GREETING": v, "EMPTY": ""},
				StandardOutPath: filepath.Join(dir, "logs", "gateway.log"), StandardErrorPath: filepath.Join(dir, "logs", "gateway.log"),
				ProcessType: "Background", UserName: "ada" + v}
			data, err := j.encode()
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			back, err := decode(data)
			if err != nil || !reflect.DeepEqual(back, j) {
				t.Fatalf("howett read back %+v (%v)\nwant %+v", back, err, j)
			}
			py := plistlib(t, data)
			var args []string
			for _, a := range py["ProgramArguments"].([]any) {
				args = append(args, a.(string))
			}
			if !reflect.DeepEqual(args, j.ProgramArguments) {
				t.Errorf("plistlib read ProgramArguments %q, want %q", args, j.ProgramArguments)
			}
			env := py["EnvironmentVariables"].(map[string]any)
			for k, want := range j.EnvironmentVariables {
				if env[k] != want {
					t.Errorf("plistlib read %s=%q, want %q", k, env[k], want)
				}
			}
			for k, want := range map[string]string{"WorkingDirectory": j.WorkingDirectory, "StandardOutPath": j.StandardOutPath,
				"StandardErrorPath": j.StandardErrorPath, "UserName": j.UserName} {
				if py[k] != want {
					t.Errorf("plistlib read %s %q, want %q", k, py[k], want)
				}
			}
		})
	}
}

// TestPlistRefusesWhatXMLCannotCarry: a string a plist cannot hold is an
// *InvalidOptionError naming its option, and no plist is made; the encoder
// alone would have written U+FFFD in its place.
func TestPlistRefusesWhatXMLCannotCarry(t *testing.T) {
	good := func() job {
		return job{Label: Label("work"), ProgramArguments: []string{"/usr/local/bin/hermes", "gateway", "run"}, WorkingDirectory: "/h",
			EnvironmentVariables: map[string]string{gateway.EnvHome: "/h"}, StandardOutPath: "/h/logs/gateway.log",
			StandardErrorPath: "/h/logs/gateway.log"}
	}
	for _, bad := range []string{"a\x01b", "\x00", "\x1b[31m", "bad\xffutf", "\ufffe", "\uffff"} {
		for _, tt := range []struct {
			field, option string
			edit          func(*job)
		}{
			{"argument", "command", func(j *job) { j.ProgramArguments = append(j.ProgramArguments, bad) }},
			{"program", "command", func(j *job) { j.ProgramArguments[0] = "/opt/" + bad + "/hermes" }},
			{"working folder", "home", func(j *job) { j.WorkingDirectory = "/h/" + bad }},
			{"log", "home", func(j *job) { j.StandardOutPath = "/h/" + bad }},
			{"home", "home", func(j *job) { j.EnvironmentVariables[gateway.EnvHome] = "/h/" + bad }},
			{"env value", "env", func(j *job) { j.EnvironmentVariables["GREETING"] = bad }},
			{"user", "run-as-user", func(j *job) { j.UserName = bad }},
		} {
			t.Run(tt.field+" "+strconv.Quote(bad), func(t *testing.T) {
				j := good()
				tt.edit(&j)
				data, err := j.encode()
				var inv *service.InvalidOptionError
				if !errors.As(err, &inv) || inv.Option != tt.option || data != nil {
					t.Fatalf("got %v, want an invalid %s", err, tt.option)
				}
			})
		}
	}
	j := good()
	j.ProgramArguments[0] = "hermes"
	if _, err := j.encode(); !errors.Is(err, service.ErrInvalidOption) {
		t.Fatalf("a relative program: %v", err)
	}
}
