//go:build !windows

package s6

import (
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nousresearch/hermes-service/shared/gateway"
	"github.com/nousresearch/hermes-service/shared/service"
)

// maxShebang is the longest #! line the kernel reads whole (Linux's
// BINPRM_BUF_SIZE less its newline).
const maxShebang = 255

// checkValues refuses, before anything is written, a value the slot's
// scripts could not carry as given: sh itself can be given any byte string
// single-quoted, so what is refused is what sh never sees as a quoted
// word. The home must be absolute (it is the fallback for $HERMES_HOME, and
// s6-log takes a relative folder for a directive); the programs run by path
// (s6 runs the scripts with s6-svscan's PATH and the slot as the working
// folder); the #! line that names with-contenv cannot quote, so its folder
// may hold no white space; the service user must not read as an option of
// s6-setuidgid. Each refusal is an *InvalidOptionError (exit 2).
func (c Config) checkValues(argv []string, env map[string]string) error {
	if c.Home == "" || !filepath.IsAbs(c.Home) {
		return &service.InvalidOptionError{Option: "home", Value: c.Home,
			Reason: "the s6 run scripts need the Hermes home as an absolute path"}
	}
	if c.Hermes != "" && !filepath.IsAbs(c.Hermes) {
		return &service.InvalidOptionError{Option: gateway.EnvS6Hermes, Value: c.Hermes,
			Reason: "the run script needs an absolute path (s6 runs it in the slot's folder, with s6-svscan's PATH)"}
	}
	if len(argv) == 0 || !filepath.IsAbs(argv[0]) {
		return &service.InvalidOptionError{Option: "command", Value: strings.Join(argv, " "),
			Reason: "the run script needs the absolute path of the program"}
	}
	if err := service.ValidateEnv(env); err != nil {
		return err
	}
	if c.BinDir != "" {
		if !filepath.IsAbs(c.BinDir) {
			return &service.InvalidOptionError{Option: gateway.EnvS6BinDir, Value: c.BinDir,
				Reason: "the run scripts need the s6 tools' folder as an absolute path"}
		}
		if line := c.shebang(); line != "#!/bin/sh" {
			if strings.ContainsAny(c.BinDir, " \t\n\r\x00") || !utf8.ValidString(c.BinDir) {
				return &service.InvalidOptionError{Option: gateway.EnvS6BinDir, Value: c.BinDir,
					Reason: "the scripts' #! line names with-contenv in it, and a #! line cannot quote white space"}
			}
			if len(line) > maxShebang {
				return &service.InvalidOptionError{Option: gateway.EnvS6BinDir, Value: c.BinDir,
					Reason: "the scripts' #! line naming with-contenv in it would be longer than the kernel reads"}
			}
		}
	}
	if c.User != "" {
		if reason := userProblem(c.User); reason != "" {
			return &service.InvalidOptionError{Option: gateway.EnvS6User, Value: c.User, Reason: reason}
		}
		if _, _, _, err := c.owner(); err != nil {
			return err
		}
	}
	return nil
}

// userProblem says why name cannot be the service user s6-setuidgid is
// given, "" when it can.
func userProblem(name string) string {
	if strings.HasPrefix(name, "-") {
		return "an account name cannot start with '-' (s6-setuidgid would read it as an option)"
	}
	if !utf8.ValidString(name) {
		return "an account name must be valid UTF-8"
	}
	for _, r := range name {
		if unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return "an account name cannot hold white space or control characters"
		}
	}
	return ""
}
