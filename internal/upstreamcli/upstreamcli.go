// Package upstreamcli finds upstream's Hermes CLI (the Python `hermes` of
// NousResearch/hermes-agent), whose `gateway run` is the gateway hermes
// keeps running. Our binary shares its name, so the search skips every
// copy of ours.
package upstreamcli

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/nousresearch/hermes-service/internal/runner"
	"github.com/nousresearch/hermes-service/shared/gateway"
)

// module is this project's module path: a binary built from it is a copy
// of ours, never upstream's CLI.
const module = "github.com/nousresearch/hermes-service"

// pythonModule is upstream's CLI as a Python module.
const pythonModule = "hermes_cli.main"

// Finder looks for upstream's CLI.
type Finder struct {
	// Getenv reads the environment (os.Getenv).
	Getenv func(string) string
	// Self is this program's path (os.Executable), never a candidate.
	Self string
}

// Find is upstream's CLI as the start of a command line, its program an
// absolute path: $HERMES_UPSTREAM_CLI (a command line), else the first
// `hermes` on PATH that is neither this program nor another copy of ours,
// else `python3 -m hermes_cli.main` when Python can import it. None is a
// *NotFoundError.
func (f Finder) Find() ([]string, error) {
	if line := strings.TrimSpace(f.Getenv(gateway.EnvUpstreamCLI)); line != "" {
		words, err := runner.SplitCommandLine(line)
		if err != nil || len(words) == 0 {
			return nil, fmt.Errorf("%s %q cannot be split into words: %v", gateway.EnvUpstreamCLI, line, err)
		}
		path, err := absolute(words[0])
		if err != nil {
			return nil, fmt.Errorf("%s names %q: %w", gateway.EnvUpstreamCLI, words[0], err)
		}
		words[0] = path
		return words, nil
	}
	for _, dir := range filepath.SplitList(f.Getenv("PATH")) {
		if dir == "" || !filepath.IsAbs(dir) {
			continue // a relative PATH entry would depend on where hermes runs
		}
		path := filepath.Join(dir, "hermes")
		if info, err := os.Stat(path); err != nil || info.IsDir() || info.Mode()&0o111 == 0 {
			continue
		}
		if f.ours(path) {
			continue
		}
		return []string{path}, nil
	}
	if python, err := absolute("python3"); err == nil && imports(python) {
		return []string{python, "-m", pythonModule}, nil
	}
	return nil, &NotFoundError{}
}

// importable keeps each Python's answer for this process: starting Python
// takes 30 ms to a second (a pyenv shim), and a boot's reconcile asks for
// every profile registered without settings of ours.
var importable sync.Map // python path -> bool

// imports reports whether python can import upstream's CLI module.
func imports(python string) bool {
	if v, ok := importable.Load(python); ok {
		return v.(bool)
	}
	ok := exec.Command(python, "-c", "import "+pythonModule).Run() == nil
	importable.Store(python, ok)
	return ok
}

// ours says whether path is this program or another build of this project.
func (f Finder) ours(path string) bool {
	if self, err := os.Stat(f.Self); err == nil {
		if other, err := os.Stat(path); err == nil && os.SameFile(self, other) {
			return true
		}
	}
	info, err := buildinfo.ReadFile(path)
	return err == nil && info.Main.Path == module
}

func absolute(program string) (string, error) {
	path, err := exec.LookPath(program)
	if err != nil {
		return "", err
	}
	return filepath.Abs(path)
}

// NotFoundError is no upstream CLI anywhere hermes looks.
type NotFoundError struct{}

func (*NotFoundError) Error() string {
	return "upstream's Hermes CLI (hermes-agent) was not found: not in " + gateway.EnvUpstreamCLI +
		", no other hermes on PATH, and python3 cannot import " + pythonModule
}

// Hint says how to point hermes at it.
func (*NotFoundError) Hint() string {
	return "install hermes-agent, or set " + gateway.EnvUpstreamCLI + " to its command line (e.g. '/opt/hermes/.venv/bin/python -m " +
		pythonModule + "'), or name the gateway program with --gateway-command"
}

// ErrNotFound matches a *NotFoundError with errors.Is.
var ErrNotFound = errors.New("upstream CLI not found")

// Is makes errors.Is(err, ErrNotFound) true.
func (*NotFoundError) Is(target error) bool { return target == ErrNotFound }

// GatewayRun is upstream's `[-p P] gateway run` after cli, with
// --external-supervisor when that CLI's `gateway run` accepts it (newer
// upstream; see AcceptsExternalSupervisor): the runner wraps the gateway
// as a supervisor, and the flag, not the variable alone, authorises the
// --replace takeover an s6 slot relies on.
func GatewayRun(cli []string, profile string) []string {
	argv := append(append([]string{}, cli...), gateway.ProfileArgs(profile)...)
	argv = append(argv, gateway.CommandGateway, gateway.CommandRun)
	if AcceptsExternalSupervisor(cli) {
		argv = append(argv, gateway.FlagExternalSupervisor)
	}
	return argv
}

// probeTimeout bounds asking upstream's CLI for its help: a Python CLI
// starts in about a second; one that hangs is taken for one without the
// flag.
const probeTimeout = 15 * time.Second

// probed keeps each CLI's answer for this process: a container boot's
// reconcile asks once, not once per profile.
var probed sync.Map // strings.Join(cli, "\x00") -> bool

// AcceptsExternalSupervisor asks upstream's CLI, `gateway run --help`,
// whether its gateway takes --external-supervisor. Only upstream's own CLI
// is asked (never an operator's --gateway-command, which might start a
// gateway rather than print help); any failure is a no.
func AcceptsExternalSupervisor(cli []string) bool {
	key := strings.Join(cli, "\x00")
	if v, ok := probed.Load(key); ok {
		return v.(bool)
	}
	ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
	defer cancel()
	argv := append(append([]string{}, cli...), gateway.CommandGateway, gateway.CommandRun, "--help")
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.WaitDelay = time.Second
	out, err := cmd.Output()
	ok := err == nil && bytes.Contains(out, []byte(gateway.FlagExternalSupervisor))
	probed.Store(key, ok)
	return ok
}
