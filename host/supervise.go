package host

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/nousresearch/hermes-service/internal/discovery"
	"github.com/nousresearch/hermes-service/internal/wait"
	"github.com/nousresearch/hermes-service/shared/gateway"
)

// privateTree is the layout of the supervision tree `gateway supervise`
// runs for a home: <home>/run/service, with s6-svscan's pid beside it.
type privateTree struct {
	runDir  string
	scandir string
	pidFile string
	logFile string
}

func treeOf(home string) privateTree {
	run := filepath.Join(home, "run")
	return privateTree{runDir: run, scandir: filepath.Join(run, "service"),
		pidFile: filepath.Join(run, "s6-svscan.pid"), logFile: filepath.Join(run, "s6-svscan.log")}
}

// alive is the tree's s6-svscan pid when it runs, else 0.
func (t privateTree) alive() int {
	data, err := os.ReadFile(t.pidFile)
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || !gateway.Alive(pid) {
		return 0
	}
	if _, err := os.Stat(filepath.Join(t.scandir, ".s6-svscan", "control")); err != nil {
		return 0
	}
	return pid
}

func superviseCommand() *cli.Command {
	return &cli.Command{
		Name:      "supervise",
		Usage:     "run a private s6 supervision tree for machines without a usable init system",
		ArgsUsage: " ",
		Description: "Starts s6-svscan, owned by you, on <home>/run/service in the background (again: a no-op).\n" +
			"While it runs, hermes uses it as its s6 backend: register, start and stop gateways as in an\n" +
			"s6-overlay container. For containers without s6-overlay, WSL without systemd, CI.",
		Flags: []cli.Flag{&cli.BoolFlag{Name: "stop", Usage: "end the tree cleanly: its gateways are stopped first"}},
		Action: func(c *cli.Context) error {
			if err := noArgs(c); err != nil {
				return err
			}
			s, err := newSession(c)
			if err != nil {
				return err
			}
			t := treeOf(s.home)
			if c.Bool("stop") {
				return stopTree(s, t)
			}
			return startTree(s, t)
		},
	}
}

func startTree(s *session, t privateTree) error {
	if pid := t.alive(); pid > 0 {
		fmt.Fprintf(s.stdout, "the private supervision tree is already running (s6-svscan pid %d on %s)\n", pid, t.scandir)
		return nil
	}
	svscan, err := findS6Tool("s6-svscan")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(t.scandir, 0o755); err != nil {
		return fmt.Errorf("private tree: %w", err)
	}
	pid, err := spawnDetached(svscan, []string{t.scandir}, t.logFile)
	if err != nil {
		return fmt.Errorf("start s6-svscan: %w", err)
	}
	if err := os.WriteFile(t.pidFile, []byte(strconv.Itoa(pid)+"\n"), 0o644); err != nil {
		return fmt.Errorf("private tree: %w", err)
	}
	if err := wait.For(s.ctx, "s6-svscan to start", 5*time.Second, func() bool { return t.alive() != 0 }); err != nil {
		log, _ := os.ReadFile(t.logFile)
		return fmt.Errorf("s6-svscan did not start on %s: %w: %s", t.scandir, err, strings.TrimSpace(string(log)))
	}
	fmt.Fprintf(s.stdout, "started a private supervision tree: s6-svscan pid %d on %s\nhermes now uses it as its s6 backend; end it with: hermes gateway supervise --stop\n", pid, t.scandir)
	return nil
}

func stopTree(s *session, t privateTree) error {
	pid := t.alive()
	if pid == 0 {
		_ = os.Remove(t.pidFile)
		fmt.Fprintln(s.stdout, "the private supervision tree is not running")
		return nil
	}
	ctl, err := findS6Tool("s6-svscanctl")
	if err != nil {
		return err
	}
	if out, err := runTool(ctl, "-t", t.scandir); err != nil {
		return fmt.Errorf("s6-svscanctl -t %s: %v: %s", t.scandir, err, out)
	}
	if err := wait.For(s.ctx, "s6-svscan to exit", 15*time.Second, func() bool { return !gateway.Alive(pid) }); err != nil {
		_ = gateway.Kill(pid)
	}
	_ = os.Remove(t.pidFile)
	fmt.Fprintf(s.stdout, "stopped the private supervision tree (s6-svscan pid %d)\n", pid)
	return nil
}

// findS6Tool finds an s6 tool where the s6 backend would: HERMES_S6_BIN_DIR,
// s6-overlay's /command, then PATH.
func findS6Tool(name string) (string, error) {
	dirs := []string{os.Getenv(gateway.EnvS6BinDir), "/command"}
	for _, d := range dirs {
		if d == "" {
			continue
		}
		if p := filepath.Join(d, name); isExecutableFile(p) {
			return p, nil
		}
	}
	if p, err := lookPath(name); err == nil {
		return p, nil
	}
	return "", &ConfigError{Err: &missingToolError{tool: name}}
}

type missingToolError struct{ tool string }

func (e *missingToolError) Error() string { return e.tool + " is not installed" }

func (e *missingToolError) Hint() string {
	return "install s6 (Debian: sudo apt-get install s6), or point HERMES_S6_BIN_DIR at its tools"
}

func isExecutableFile(p string) bool {
	info, err := os.Stat(p)
	return err == nil && !info.IsDir() && discovery.IsExecutable(info)
}
