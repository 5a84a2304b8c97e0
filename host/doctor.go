package host

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/nousresearch/hermes-service/internal/detect"
	"github.com/nousresearch/hermes-service/internal/fserr"
	"github.com/nousresearch/hermes-service/shared/gateway"
	"github.com/nousresearch/hermes-service/shared/service"
)

// finding is one thing hermes gateway doctor looked at: a home or plugin check of
// the host's, or a backend's own. OK is false only for a problem; a
// warning is OK, shown with its fix.
type finding struct {
	Check    string           `json:"check"`
	OK       bool             `json:"ok"`
	Severity service.Severity `json:"severity"`
	Detail   string           `json:"detail"`
	Fix      *string          `json:"fix"`
}

type findings []finding

func (f *findings) add(check string, ok bool, detail, fix string) {
	sev := service.SeverityOK
	if !ok {
		sev = service.SeverityError
	}
	f.addFinding(service.Finding{Check: check, Severity: sev, Detail: detail, Fix: fix})
}

func (f *findings) addFinding(x service.Finding) {
	y := finding{Check: x.Check, OK: !x.Problem(), Severity: x.Severity, Detail: x.Detail}
	if x.Fix != "" && x.Severity != service.SeverityOK {
		y.Fix = &x.Fix
	}
	*f = append(*f, y)
}

// marks are the text output's first column: FAIL lines are the problems
// counted at the end.
var marks = map[service.Severity]string{
	service.SeverityOK:      "ok  ",
	service.SeverityWarning: "warn",
	service.SeverityError:   "FAIL",
}

func doctorCommand() *cli.Command {
	return &cli.Command{
		Name:      "doctor",
		Usage:     "check this machine and the Hermes home, and say how to fix what is wrong (exit 1 if anything is)",
		ArgsUsage: " ",
		Flags:     []cli.Flag{jsonFlag()},
		Action:    doctor,
	}
}

func doctor(c *cli.Context) error {
	s, err := flagsOnlySession(c)
	if err != nil {
		return err
	}
	var f findings
	d, derr := s.detect(defaultScope())
	if derr != nil {
		f.add("service manager", false, d.Reason, service.HintOf(derr))
	} else {
		f.add("service manager", true, d.Reason, "")
		if checkPlugin(s, d, &f) {
			checkBackend(s, &f)
		}
	}
	// Third-party backends' detection manifests, matched or not.
	_, verdicts := detect.ThisMachine().DetectWith(defaultScope(), s.manifests())
	for _, v := range verdicts {
		detail := fmt.Sprintf("%s does not match: %s (%s)", v.Manifest.Kind, v.Reason, v.Manifest.Path)
		if v.Matched {
			detail = fmt.Sprintf("%s matches: %s (%s)", v.Manifest.Kind, v.Reason, v.Manifest.Path)
		}
		f.add("detection manifest", true, detail, "")
	}
	checkHome(s.home, &f)
	checkHomeFiles(s.home, &f)
	checkPluginPath(&f)
	return f.report(s.stdout, c.Bool("json"))
}

// report writes the findings, as text or JSON; any problem ends the
// command with exit 1.
func (f findings) report(w io.Writer, asJSON bool) error {
	failed := 0
	for _, x := range f {
		if !x.OK {
			failed++
		}
	}
	if asJSON {
		if err := writeJSON(w, f); err != nil {
			return err
		}
	} else {
		for _, x := range f {
			fmt.Fprintf(w, "%s  %s: %s\n", marks[x.Severity], x.Check, x.Detail)
			if x.Fix != nil {
				fmt.Fprintf(w, "      fix: %s\n", *x.Fix)
			}
		}
		fmt.Fprintf(w, "%d checks, %d problems\n", len(f), failed)
	}
	if failed > 0 {
		return exitStatus(ExitFailed)
	}
	return nil
}

// checkPlugin reports whether the backend's plugin is found, verified and
// answers.
func checkPlugin(s *session, d detect.Detection, f *findings) bool {
	cand, _, err := s.searcher().Find(d.Kind)
	if err != nil {
		f.add("plugin", false, err.Error(), service.HintOf(err))
		return false
	}
	if cand.Refused != nil {
		f.add("plugin", false, cand.Refused.Error(), service.HintOf(cand.Refused))
		return false
	}
	info := inspect(s.ctx, s, cand)
	if info.Error != nil {
		f.add("plugin", false, cand.Path+": "+*info.Error, gateway.CommandLinePluginsCheck+" "+cand.Path)
		return false
	}
	f.add("plugin", true, fmt.Sprintf("%s %s, protocol %d, checksum %s", cand.Path, *info.Version, *info.Protocol, info.Checksum), "")
	return true
}

// checkBackend adds the backend's own checks: what its init system needs
// is the backend's knowledge, not the host's.
func checkBackend(s *session, f *findings) {
	m, _, err := s.open(defaultScope())
	if err != nil {
		f.add("backend checks", false, err.Error(), service.HintOf(err))
		return
	}
	defer m.Close()
	exe, _ := os.Executable()
	backendFindings(s.ctx, m, service.DiagnoseOptions{Home: s.home, Hermes: exe}, f)
}

// backendFindings adds what the backend's Diagnose finds; a failed call is
// itself a problem.
func backendFindings(ctx context.Context, m service.Manager, o service.DiagnoseOptions, f *findings) {
	found, err := m.Diagnose(ctx, o)
	if err != nil {
		f.add("backend checks", false, err.Error(), service.HintOf(err))
		return
	}
	for _, x := range found {
		f.addFinding(x)
	}
}

func checkHome(home string, f *findings) {
	if err := fserr.Writable(home); err != nil {
		f.add("home", false, home+" is not writable: "+fserr.Reason(err), "check that "+home+" is a folder you own (or set HERMES_HOME / --home)")
		return
	}
	f.add("home", true, home+" is writable", "")
	profiles, err := gateway.Home{Root: home}.Profiles()
	if err != nil {
		f.add("profiles", false, err.Error(), "check the folder "+filepath.Join(home, "profiles"))
		return
	}
	for _, p := range profiles {
		dir, _ := gateway.Home{Root: home}.ProfileDir(p)
		if p != service.DefaultProfile {
			if err := fserr.Writable(dir); err != nil {
				f.add("profile "+p, false, dir+" is not writable: "+fserr.Reason(err), "chown or chmod "+dir)
				continue
			}
		}
		for _, c := range []gateway.Claim{gateway.Runner, gateway.Upstream} {
			if info, err := os.Lstat(filepath.Join(dir, c.PIDFile)); err != nil || !info.Mode().IsRegular() {
				continue // none, or not a file to read (the home files' check says so)
			}
			rec, _ := c.ReadPIDRecord(dir)
			if rec == nil {
				continue
			}
			why := rec.Stale()
			if why == "" {
				// Read-only: a lock file is never created to probe it.
				if held, whyNot := c.LockHeld(dir); !held {
					why = whyNot
				}
			}
			if why != "" {
				f.add("profile "+p, false, "stale pid record "+filepath.Join(dir, c.PIDFile)+": "+why,
					"remove it: rm "+filepath.Join(dir, c.PIDFile))
			}
		}
		if expired, at := staleMarker(dir); expired {
			f.add("profile "+p, false, "stale planned-stop marker "+filepath.Join(dir, gateway.PlannedStopFile)+" (written "+at+")",
				"remove it: rm "+filepath.Join(dir, gateway.PlannedStopFile))
		}
	}
}

// staleMarker reports a planned-stop marker nobody consumed in time.
func staleMarker(dir string) (bool, string) {
	data, err := gateway.ReadFile(dir, gateway.PlannedStopFile)
	if err != nil {
		return false, ""
	}
	var m gateway.Marker
	if json.Unmarshal(data, &m) != nil {
		return true, "unreadable"
	}
	t, err := time.Parse(time.RFC3339Nano, m.WrittenAt)
	if err != nil {
		return true, m.WrittenAt
	}
	return time.Since(t) > gateway.MarkerTTL, m.WrittenAt
}
