package host

import (
	"context"
	"errors"
	"io"
	"maps"
	"runtime"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/nousresearch/hermes-service/shared/gateway"
)

// TestParseEnv: --env values are kept byte for byte; a key given twice, a
// key hermes sets itself, a key that is no identifier and a value the
// plugin protocol cannot carry are usage errors (exit 2) that say why.
func TestParseEnv(t *testing.T) {
	type envCase struct {
		name string
		in   []string
		want map[string]string
		// err is a part of the error; hint a part of its hint.
		err, hint string
	}
	tests := []envCase{
		{name: "none", in: nil, want: nil},
		{name: "bytes kept", in: []string{"A=x  ", "B=\ttab\t", "C=line1\nline2\n", "D= lead", "E=a=b=c", "F=", "G=\r\x1b[31m", "H=καλημέρα ✓"},
			want: map[string]string{"A": "x  ", "B": "\ttab\t", "C": "line1\nline2\n", "D": " lead", "E": "a=b=c", "F": "",
				"G": "\r\x1b[31m", "H": "καλημέρα ✓"}},
		{name: "no equals", in: []string{"NOEQUALS"}, err: `--env "NOEQUALS": want KEY=VALUE`},
		{name: "bad key", in: []string{"1BAD=x"}, err: `invalid env "1BAD": keys must match`},
		{name: "key with a space", in: []string{" A=x"}, err: `invalid env " A": keys must match`},
		{name: "key with a newline", in: []string{"A\nB=x"}, err: `invalid env "A\nB": keys must match`},
		{name: "key with a control character", in: []string{"A\x1bB=x"}, err: `invalid env "A\x1bB": keys must match`},
		{name: "NUL in a value", in: []string{"A=x\x00y"}, err: `invalid env "A": the value holds a NUL byte (byte 1)`},
		{name: "invalid UTF-8", in: []string{"A=caf\xe9"}, err: `invalid env "A": the value is not valid UTF-8 (byte 3)`},
		{name: "twice", in: []string{"A=1", "B=2", "A=1"}, err: "--env A is given twice", hint: "give each key once"},
		{name: "twice, values differ", in: []string{"A=1", "A=2"}, err: "--env A is given twice"},
		{name: "home", in: []string{"HERMES_HOME=/elsewhere"}, err: "--env HERMES_HOME: hermes sets HERMES_HOME for the gateway itself", hint: "--home"},
		{name: "gateway command", in: []string{"HERMES_GATEWAY_COMMAND=gw"}, err: "hermes sets HERMES_GATEWAY_COMMAND", hint: "--gateway-command"},
		{name: "supervised child", in: []string{"HERMES_SUPERVISED_CHILD=0"}, err: "hermes sets HERMES_SUPERVISED_CHILD", hint: "hermes sets it"},
		{name: "s6 supervised child", in: []string{"HERMES_S6_SUPERVISED_CHILD=0"}, err: "hermes sets HERMES_S6_SUPERVISED_CHILD", hint: "s6 slot"},
		{name: "external supervisor", in: []string{"HERMES_GATEWAY_EXTERNAL_SUPERVISOR=0"}, err: "hermes sets HERMES_GATEWAY_EXTERNAL_SUPERVISOR", hint: "--protocol hermes"},
		{name: "an operator's hermes variable", in: []string{"HERMES_GATEWAY_MAX_STARTS=0"}, want: map[string]string{"HERMES_GATEWAY_MAX_STARTS": "0"}},
	}
	if runtime.GOOS == "windows" {
		tests = append(tests,
			envCase{name: "twice in two cases", in: []string{"Path=a", "PATH=b"}, err: "--env Path and --env PATH name one variable"},
			envCase{name: "home in lower case", in: []string{"hermes_home=x"}, err: "hermes sets hermes_home", hint: "--home"})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseEnv(tt.in)
			if tt.err == "" {
				if err != nil || !maps.Equal(got, tt.want) || (got == nil) != (tt.want == nil) {
					t.Fatalf("parseEnv(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
				}
				return
			}
			var usage *UsageError
			if !errors.As(err, &usage) || exitCode(err) != ExitUsage {
				t.Fatalf("parseEnv(%q) = %q, %v; want a usage error", tt.in, got, err)
			}
			if !strings.Contains(err.Error(), tt.err) {
				t.Errorf("error %q, want %q in it", err, tt.err)
			}
			if h := usage.Hint(); !strings.Contains(h, tt.hint) {
				t.Errorf("hint %q, want %q in it", h, tt.hint)
			}
		})
	}
}

// TestOwnedEnvNamesWhatSetsIt: every variable hermes owns is refused with a
// hint, and the hint names a flag or says hermes sets it.
func TestOwnedEnvNamesWhatSetsIt(t *testing.T) {
	for _, v := range gateway.OwnedEnv {
		_, err := parseEnv([]string{v.Name + "=x"})
		var usage *UsageError
		if !errors.As(err, &usage) || !strings.Contains(usage.Hint(), v.SetBy) ||
			!(strings.Contains(v.SetBy, "--") || strings.Contains(v.SetBy, "hermes")) {
			t.Errorf("--env %s=x: %v (hint %q)", v.Name, err, v.SetBy)
		}
	}
}

// TestEnvFlagKeepsSpaces: the flag as install and register parse it keeps
// what urfave/cli would trim from a slice flag's values.
func TestEnvFlagKeepsSpaces(t *testing.T) {
	in := []string{"A=x  ", "B=\ttab\t", "C=line\n", " D=x "}
	var got []string
	app := &cli.App{Writer: io.Discard, ErrWriter: io.Discard, DisableSliceFlagSeparator: true,
		Commands: []*cli.Command{{Name: "register", Flags: []cli.Flag{envFlag()},
			Action: func(c *cli.Context) error { got = c.StringSlice("env"); return nil }}}}
	args := []string{"hermes", "register"}
	for _, kv := range in {
		args = append(args, "--env", kv)
	}
	if err := app.RunContext(context.Background(), args); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, "|") != strings.Join(in, "|") {
		t.Fatalf("the flag gave %q, want %q", got, in)
	}
}
