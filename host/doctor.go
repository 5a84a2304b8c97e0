package host

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/nousresearch/hermes-service/internal/discovery"
	"github.com/nousresearch/hermes-service/shared/gateway"
	"github.com/nousresearch/hermes-service/shared/service"
)

// finding is one thing hermes doctor looked at.
type finding struct {
	Check  string  `json:"check"`
	OK     bool    `json:"ok"`
	Detail string  `json:"detail"`
	Fix    *string `json:"fix"`
}

type findings []finding

func (f *findings) add(check string, ok bool, detail, fix string) {
	x := finding{Check: check, OK: ok, Detail: detail}
	if fix != "" && !ok {
		x.Fix = &fix
	}
	*f = append(*f, x)
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
	if err := noArgs(c); err != nil {
		return err
	}
	s, err := newSession(c)
	if err != nil {
		return err
	}
	var f findings
	d, derr := s.detect(defaultScope())
	if derr != nil {
		f.add("service manager", false, d.Reason, service.HintOf(derr))
	} else {
		f.add("service manager", true, d.Reason, "")
		checkPlugin(s, d, &f)
		switch d.Kind {
		case service.KindS6:
			checkS6(s, &f)
		case service.KindSystemd:
			checkSystemd(&f, s.home)
		case service.KindLaunchd:
			checkLaunchd(&f)
		}
	}
	checkHome(s.home, &f)
	failed := 0
	for _, x := range f {
		if !x.OK {
			failed++
		}
	}
	if c.Bool("json") {
		if err := writeJSON(s.stdout, f); err != nil {
			return err
		}
	} else {
		for _, x := range f {
			mark := "ok  "
			if !x.OK {
				mark = "FAIL"
			}
			fmt.Fprintf(s.stdout, "%s  %s: %s\n", mark, x.Check, x.Detail)
			if x.Fix != nil {
				fmt.Fprintf(s.stdout, "      fix: %s\n", *x.Fix)
			}
		}
		fmt.Fprintf(s.stdout, "%d checks, %d problems\n", len(f), failed)
	}
	if failed > 0 {
		return exitStatus(ExitFailed)
	}
	return nil
}

func checkPlugin(s *session, d Detection, f *findings) {
	cand, _, err := discovery.FromEnv().Find(d.Kind)
	if err != nil {
		f.add("plugin", false, err.Error(), service.HintOf(err))
		return
	}
	if cand.Refused != nil {
		f.add("plugin", false, cand.Refused.Error(), service.HintOf(cand.Refused))
		return
	}
	info := inspect(s.ctx, s, cand)
	if info.Error != nil {
		f.add("plugin", false, cand.Path+": "+*info.Error, "hermes plugin check "+cand.Path)
		return
	}
	f.add("plugin", true, fmt.Sprintf("%s %s, protocol %d, checksum %s", cand.Path, *info.Version, *info.Protocol, info.Checksum), "")
}

// writable creates and removes a file in dir.
func writable(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".hermes-doctor-*")
	if err != nil {
		return err
	}
	tmp.Close()
	return os.Remove(tmp.Name())
}

func checkHome(home string, f *findings) {
	if err := writable(home); err != nil {
		f.add("home", false, home+" is not writable: "+errText(err), "check that "+home+" is a folder you own (or set HERMES_HOME / --home)")
		return
	}
	f.add("home", true, home+" is writable", "")
	profiles, err := homeProfiles(home)
	if err != nil {
		f.add("profiles", false, err.Error(), "check the folder "+filepath.Join(home, "profiles"))
		return
	}
	for _, p := range profiles {
		dir, _ := gateway.Home{Root: home}.ProfileDir(p)
		if p != service.DefaultProfile {
			if err := writable(dir); err != nil {
				f.add("profile "+p, false, dir+" is not writable: "+errText(err), "chown or chmod "+dir)
				continue
			}
		}
		if rec, _ := gateway.ReadPIDRecord(dir); rec != nil {
			why := rec.Stale()
			if why == "" && !gateway.Locked(dir) {
				why = "no runner holds " + gateway.LockFile
			}
			if why != "" {
				f.add("profile "+p, false, "stale pid record "+filepath.Join(dir, gateway.PIDFile)+": "+why,
					"remove it: rm "+filepath.Join(dir, gateway.PIDFile))
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
	data, err := os.ReadFile(filepath.Join(dir, gateway.PlannedStopFile))
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

func checkS6(s *session, f *findings) {
	scandir := s.scandir
	if scandir == "" {
		scandir = "/run/service"
	}
	if err := writable(scandir); err != nil {
		f.add("s6 scandir", false, scandir+" is not writable: "+errText(err), "run as the scandir's owner, or point --scandir at one you can write")
	} else {
		f.add("s6 scandir", true, scandir+" is writable", "")
	}
	if err := svscanListening(scandir); err != nil {
		f.add("s6-svscan", false, "no s6-svscan listens on "+scandir+": "+err.Error(), "start one: hermes gateway supervise (or run inside s6-overlay)")
	} else {
		f.add("s6-svscan", true, "s6-svscan listens on "+scandir, "")
	}
	slots, _ := filepath.Glob(filepath.Join(scandir, "gateway-*"))
	for _, slot := range slots {
		for _, d := range []string{slot, filepath.Join(slot, "log")} {
			if bad := skeletonProblem(d); bad != "" {
				name := filepath.Base(slot)
				f.add("slot "+name, false, bad, "register it again: hermes -p "+strings.TrimPrefix(name, "gateway-")+" gateway unregister, then register")
			}
		}
	}
}

// svscanListening opens s6-svscan's control FIFO without blocking: it
// fails (ENXIO) when nobody reads it.
func svscanListening(scandir string) error {
	return fifoHasReader(filepath.Join(scandir, ".s6-svscan", "control"))
}

// skeletonProblem checks the supervise skeleton a slot was published with.
func skeletonProblem(dir string) string {
	want := map[string]fs.FileMode{
		"event":             fs.ModeDir | fs.ModeSetgid | fs.ModeSticky | 0o730,
		"supervise/control": fs.ModeNamedPipe | 0o660,
	}
	for rel, mode := range want {
		info, err := os.Lstat(filepath.Join(dir, rel))
		if err != nil {
			return filepath.Join(dir, rel) + ": " + errText(err)
		}
		if info.Mode() != mode {
			return fmt.Sprintf("%s has mode %v, want %v", filepath.Join(dir, rel), info.Mode(), mode)
		}
	}
	return ""
}

func checkSystemd(f *findings, home string) {
	runtime := os.Getenv("XDG_RUNTIME_DIR")
	if os.Geteuid() != 0 {
		user := os.Getenv("USER")
		if _, err := os.Stat(filepath.Join("/var/lib/systemd/linger", user)); err != nil {
			f.add("systemd linger", false, user+" does not linger: user units stop at logout",
				"sudo loginctl enable-linger "+user)
		} else {
			f.add("systemd linger", true, user+" lingers", "")
		}
		if _, err := os.Stat(filepath.Join(runtime, "systemd", "private")); err != nil {
			f.add("systemd user manager", false, "no user manager at "+filepath.Join(runtime, "systemd", "private"),
				"log in as "+user+" (or enable linger) and set XDG_RUNTIME_DIR=/run/user/$(id -u)")
		} else {
			f.add("systemd user manager", true, "reachable", "")
		}
	}
	exe, _ := os.Executable()
	for _, dir := range unitDirs() {
		units, _ := filepath.Glob(filepath.Join(dir, "hermes-gateway*.service"))
		for _, u := range units {
			data, err := os.ReadFile(u)
			if err != nil {
				continue
			}
			text := string(data)
			switch {
			case !strings.Contains(text, "HERMES_HOME="+home):
				// Another home's unit: not this home's concern.
			case exe != "" && !strings.Contains(text, "ExecStart="+exe+" "):
				f.add("unit "+filepath.Base(u), false, "drifted: its ExecStart is not this hermes ("+exe+")",
					"rewrite it: hermes [-p PROFILE] gateway install --force")
			default:
				f.add("unit "+filepath.Base(u), true, "matches this hermes and home", "")
			}
		}
	}
}

func unitDirs() []string {
	dirs := []string{"/etc/systemd/system"}
	config := os.Getenv("XDG_CONFIG_HOME")
	if config == "" {
		if h, err := os.UserHomeDir(); err == nil {
			config = filepath.Join(h, ".config")
		}
	}
	if config != "" {
		dirs = append(dirs, filepath.Join(config, "systemd", "user"))
	}
	return dirs
}

func checkLaunchd(f *findings) {
	out, err := exec.Command("launchctl", "managername").Output()
	if err != nil {
		f.add("launchd domain", false, "launchctl managername: "+err.Error(), "run hermes on macOS, in the user's session")
		return
	}
	domain := "user"
	if strings.TrimSpace(string(out)) == "Aqua" {
		domain = "gui"
	}
	f.add("launchd domain", true, fmt.Sprintf("%s/%d (session %s)", domain, os.Getuid(), strings.TrimSpace(string(out))), "")
}
