package host

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/nousresearch/hermes-service/internal/detect"
	"github.com/nousresearch/hermes-service/shared/gateway"
	"github.com/nousresearch/hermes-service/shared/plugin"
	"github.com/nousresearch/hermes-service/shared/service"
)

// bootLogRotate is when container-boot.log moves to container-boot.log.1.
const bootLogRotate = 256 << 10

func reconcileCommand() *cli.Command {
	return &cli.Command{
		Name:      "reconcile",
		Usage:     "at container start, register every profile's gateway again and start the ones that were running",
		ArgsUsage: " ",
		Description: "For the default profile and every profiles/<name> that holds SOUL.md, the intent recorded in\n" +
			"gateway_state.json decides: desired_state, else gateway_state (draining and degraded count as\n" +
			"running). A profile that was running is registered and started; any other is registered down.\n" +
			"Stale pid records go, and one audit line per profile is appended to logs/container-boot.log.",
		Action: reconcile,
	}
}

// bootEntry is one profile's reconcile decision.
type bootEntry struct {
	profile string
	dir     string
	prior   string // "" when nothing was recorded
}

// priorState is the recorded intent: desired_state, else gateway_state,
// with a transient state of a running gateway read as running.
func priorState(dir string) string {
	st, _ := gateway.ReadState(dir)
	if d := st.DesiredState(); d != "" {
		return d
	}
	switch g := st.GatewayState(); g {
	case gateway.GatewayDraining, gateway.GatewayDegraded:
		return service.DesiredRunning
	default:
		return g
	}
}

// bootProfiles lists default and every real profile (holding SOUL.md).
func bootProfiles(home gateway.Home, warn io.Writer) ([]bootEntry, error) {
	out := []bootEntry{{profile: service.DefaultProfile, dir: home.Root}}
	entries, err := os.ReadDir(filepath.Join(home.Root, "profiles"))
	if errors.Is(err, os.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	for _, e := range entries { // ReadDir sorts by name
		dir := filepath.Join(home.Root, "profiles", e.Name())
		if !e.IsDir() {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, "SOUL.md")); err != nil {
			continue
		}
		if e.Name() == service.DefaultProfile {
			fmt.Fprintf(warn, "reconcile: warning: skipping %s: \"default\" is the profile at the root of the home\n", dir)
			continue
		}
		if err := service.ValidateProfile(e.Name()); err != nil {
			fmt.Fprintf(warn, "reconcile: warning: skipping %s: %v\n", dir, err)
			continue
		}
		out = append(out, bootEntry{profile: e.Name(), dir: dir})
	}
	return out, nil
}

func reconcile(c *cli.Context) error {
	return withManager(c, defaultScope(), func(s *session, m *plugin.Client, _ detect.Detection) error {
		home := gateway.Home{Root: s.home}
		profiles, err := bootProfiles(home, s.stderr)
		if err != nil {
			return fmt.Errorf("list the profiles of %s: %w", s.home, err)
		}
		regs := make([]service.Registration, len(profiles))
		for i := range profiles {
			p := &profiles[i]
			p.prior = priorState(p.dir)
			// A pid record no runner holds the lock for is left from before
			// the restart (another pid namespace): it would confuse the new
			// runner's checks.
			if rec, _ := gateway.ReadPIDRecord(p.dir); rec != nil && !gateway.Locked(p.dir) {
				_ = os.Remove(filepath.Join(p.dir, gateway.PIDFile))
			}
			argv, err := gatewayArgv(p.profile)
			if err != nil {
				return err
			}
			regs[i] = service.Registration{Profile: p.profile, RegisterOptions: service.RegisterOptions{
				StartNow: p.prior == service.DesiredRunning, Command: argv}}
		}
		if err := m.Reconcile(s.ctx, regs); err != nil {
			return err
		}
		return writeBootLog(s, home, profiles)
	})
}

// writeBootLog appends one audit line per profile to
// <home>/logs/container-boot.log, rotated to .1 at 256 KiB, and prints each.
func writeBootLog(s *session, home gateway.Home, profiles []bootEntry) error {
	dir := filepath.Join(home.Root, "logs")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	path := filepath.Join(dir, "container-boot.log")
	if info, err := os.Stat(path); err == nil && info.Size() >= bootLogRotate {
		if err := os.Rename(path, path+".1"); err != nil {
			fmt.Fprintf(s.stderr, "reconcile: warning: could not rotate %s: %v\n", path, err)
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	defer f.Close()
	stamp := time.Now().Format("2006-01-02T15:04:05-0700")
	for _, p := range profiles {
		prior, action := p.prior, "registered"
		if prior == "" {
			prior = "None" // what the Python side writes for no state
		}
		if p.prior == service.DesiredRunning {
			action = "started"
		}
		line := fmt.Sprintf("%s profile=%s prior_state=%s action=%s", stamp, p.profile, prior, action)
		if _, err := fmt.Fprintln(f, line); err != nil {
			return fmt.Errorf("audit log: %w", err)
		}
		fmt.Fprintln(s.stdout, "reconcile: "+line)
	}
	return nil
}
