package systemd

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/coreos/go-systemd/v22/unit"

	"github.com/nousresearch/hermes-service/shared/service"
)

// Diagnose checks what user units need (a lingering user and a reachable
// user manager; root's units are the system's) and whether this home's
// units still run the hermes asking. Units are parsed, not searched, so a
// quoted path with a space in it is no false drift.
func (b *Backend) Diagnose(_ context.Context, opts service.DiagnoseOptions) ([]service.Finding, error) {
	var out []service.Finding
	if !b.cfg.Root {
		out = append(out, b.lingerFinding(), b.userManagerFinding())
	}
	home := opts.Home
	if home == "" {
		home = b.cfg.Home
	}
	for _, dir := range []string{b.cfg.SystemUnitDir, b.cfg.UserUnitDir} {
		paths, _ := filepath.Glob(filepath.Join(dir, "hermes-gateway*.service"))
		for _, path := range paths {
			name := filepath.Base(path)
			profile, ok := unitNames.Profile(name)
			if !ok || len(opts.Profiles) > 0 && !slices.Contains(opts.Profiles, profile) {
				continue
			}
			if f, ours := unitFinding(path, home, opts.Hermes); ours {
				out = append(out, f)
			}
		}
	}
	return out, nil
}

func (b *Backend) lingerFinding() service.Finding {
	u := b.cfg.User
	if _, err := os.Stat(filepath.Join(b.cfg.LingerDir, u)); err != nil {
		return service.Finding{Check: "systemd linger", Severity: service.SeverityError,
			Detail: u + " does not linger: user units stop at logout", Fix: "sudo loginctl enable-linger " + u}
	}
	return service.Finding{Check: "systemd linger", Severity: service.SeverityOK, Detail: u + " lingers"}
}

// userManagerFinding looks for the user manager's private socket, which
// systemctl --user talks to.
func (b *Backend) userManagerFinding() service.Finding {
	sock := filepath.Join(os.Getenv("XDG_RUNTIME_DIR"), "systemd", "private")
	if _, err := os.Stat(sock); err != nil {
		return service.Finding{Check: "systemd user manager", Severity: service.SeverityError,
			Detail: "no user manager at " + sock,
			Fix:    "log in as " + b.cfg.User + " (or enable linger) and set XDG_RUNTIME_DIR=/run/user/$(id -u)"}
	}
	return service.Finding{Check: "systemd user manager", Severity: service.SeverityOK, Detail: "reachable"}
}

// unitFinding compares the unit at path with the home and hermes asking;
// ours is false for another home's unit, which is none of this home's
// business. An unreadable unit is a warning: whose it is cannot be told.
func unitFinding(path, home, hermes string) (f service.Finding, ours bool) {
	check := "unit " + filepath.Base(path)
	data, err := os.ReadFile(path)
	if err != nil {
		return service.Finding{Check: check, Severity: service.SeverityWarning,
			Detail: "cannot read it: " + err.Error(), Fix: "check the file's permissions"}, true
	}
	opts, err := unit.DeserializeOptions(bytes.NewReader(data))
	if err != nil {
		return service.Finding{Check: check, Severity: service.SeverityWarning,
			Detail: "cannot parse it: " + err.Error(), Fix: "fix or remove " + path}, true
	}
	if unitHome(data) != home {
		return service.Finding{}, false
	}
	if program := execProgram(opts); hermes != "" && program != hermes {
		return service.Finding{Check: check, Severity: service.SeverityError,
			Detail: "drifted: its ExecStart runs " + program + ", not this hermes (" + hermes + ")",
			Fix:    "rewrite it: hermes [-p PROFILE] gateway install --force"}, true
	}
	return service.Finding{Check: check, Severity: service.SeverityOK, Detail: "matches this hermes and home"}, true
}

// execProgram is the program the unit's last ExecStart runs, unquoted and
// with the escapes quoteArg adds undone; "" when it has none.
func execProgram(opts []*unit.UnitOption) string {
	program := ""
	for _, o := range opts {
		if o.Section != "Service" || o.Name != "ExecStart" {
			continue
		}
		// The prefixes systemd allows before the path: ignore failure (-),
		// argv[0] (@), no specifiers (:), privileges (+, !, !!).
		words := splitQuoted(strings.TrimLeft(o.Value, "-@:+!"))
		program = ""
		if len(words) > 0 {
			program = strings.NewReplacer("%%", "%", "$$", "$").Replace(words[0])
		}
	}
	return program
}
