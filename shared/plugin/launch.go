package plugin

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"github.com/hashicorp/go-plugin/runner"

	"github.com/nousresearch/hermes-service/internal/wait"
	"github.com/nousresearch/hermes-service/shared/service"
)

// DefaultStartTimeout bounds the handshake: a plugin that has not said where
// it listens by then is killed, with its process group.
const DefaultStartTimeout = 5 * time.Second

// LaunchConfig says which plugin to start and how.
type LaunchConfig struct {
	// Path is the plugin executable, an absolute path. Launch opens it,
	// verifies what it opened (Verify, Checksum) and runs that very file.
	Path string
	// Verify, when set, checks the opened file before it runs, e.g. that
	// it is the file the host's trust checks passed
	// (discovery.Candidate.Verify); its error is Launch's.
	Verify func(*os.File) error
	// Kind, when set, is the backend the plugin must identify as (its file
	// name's kind): Launch asks, and refuses another with a *KindError.
	Kind string
	// Env is added to the host's environment for the plugin (later entries
	// win), e.g. HERMES_HOME=/srv/hermes.
	Env []string
	// Logger receives the plugin's log lines; default: warnings and errors
	// on stderr.
	Logger hclog.Logger
	// Checksum is the SHA-256 the executable must have; nil skips the check.
	// A file hashed to it before (the same file: device, inode, size,
	// modification and change times) is not hashed again: see sumcache.go.
	Checksum []byte
	// SumCache is the digest cache's file; default: root's under
	// /var/cache/hermes, another user's in their cache folder.
	SumCache string
	// StartTimeout bounds the handshake (and the identify call that checks
	// Kind); default DefaultStartTimeout. A plugin that takes longer is
	// killed with its process group.
	StartTimeout time.Duration
	// CallTimeout bounds each call whose context has no deadline; default
	// DefaultCallTimeout.
	CallTimeout time.Duration
}

// Client is a launched plugin: a service.Manager backed by a live process.
// Close it on every path; on Linux the plugin also dies with the host.
type Client struct {
	service.Manager
	path     string
	gp       *goplugin.Client
	protocol int
	stderr   *tail
	// runner is the plugin process; unlike go-plugin's Kill, its Kill
	// works while the handshake is still in progress.
	runner    *procRunner
	closeOnce sync.Once
}

// Launch opens the plugin at cfg.Path, verifies the open file (cfg.Verify,
// cfg.Checksum), runs that very file in a process group of its own,
// completes the handshake (connecting only to the socket in the private
// folder made for it), checks its kind (cfg.Kind) and returns a Manager for
// it. A failure leaves no process behind.
func Launch(ctx context.Context, cfg LaunchConfig) (*Client, error) {
	if cfg.Logger == nil {
		cfg.Logger = hclog.New(&hclog.LoggerOptions{Name: "hermes", Level: hclog.Warn, Output: os.Stderr})
	}
	if cfg.StartTimeout <= 0 {
		cfg.StartTimeout = DefaultStartTimeout
	}
	if cfg.CallTimeout <= 0 {
		cfg.CallTimeout = DefaultCallTimeout
	}
	fail := func(err error) (*Client, error) {
		return nil, &PluginError{Plugin: cfg.Path, Op: "launch", Err: err}
	}
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	if !filepath.IsAbs(cfg.Path) {
		return fail(fmt.Errorf("%q is not an absolute path: a plugin is run by the full path it was found and checked at", cfg.Path))
	}
	// The file is opened once: what is verified and hashed below is what
	// runs, whatever happens to the path meanwhile (see execVia).
	f, err := os.Open(cfg.Path)
	if err != nil {
		return fail(err)
	}
	defer f.Close() // the plugin holds its own copy once started
	info, err := f.Stat()
	if err != nil {
		return fail(err)
	} else if info.IsDir() {
		return fail(errors.New("it is a folder, not an executable"))
	}
	if cfg.Verify != nil {
		if err := cfg.Verify(f); err != nil {
			return nil, err
		}
	}
	// What this user's cache knows of this very file (see sumcache.go).
	cache := cfg.sumCache()
	id, known := identityOf(info)
	if cfg.Checksum != nil {
		if err := verifyChecksum(f, cache, id, known, cfg); err != nil {
			return nil, err
		}
	}

	exe, extra := execVia(f, cfg.Path)
	r := &procRunner{path: cfg.Path}
	c := &Client{path: cfg.Path, stderr: &tail{max: 4096}, runner: r}
	c.gp = goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig:  Handshake,
		VersionedPlugins: pluginSets(nil),
		RunnerFunc: func(_ hclog.Logger, spec *exec.Cmd, socketDir string) (runner.Runner, error) {
			// spec.Env is go-plugin's (cookie, protocol versions, socket
			// folder): it comes last and wins.
			env := append(append(os.Environ(), cfg.Env...), spec.Env...)
			return r, r.prepare(exe, extra, env, socketDir)
		},
		SkipHostEnv:      true, // the RunnerFunc adds it, with ours winning
		UnixSocketConfig: &goplugin.UnixSocketConfig{TempDir: socketParent()},
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		Managed:          true,
		AutoMTLS:         autoMTLS,
		StartTimeout:     cfg.StartTimeout,
		Logger:           cfg.Logger,
		Stderr:           c.stderr,
		SyncStdout:       lineLogger{log: cfg.Logger, msg: "plugin wrote to stdout"},
		SyncStderr:       lineLogger{log: cfg.Logger, msg: "plugin wrote to stderr", tail: c.stderr},
	})

	// go-plugin's handshake knows no context: cancelling ctx kills the
	// plugin, which ends the handshake at once.
	stop := context.AfterFunc(ctx, func() { _ = r.Kill(context.Background()) })
	rpc, err := c.gp.Client()
	stop()
	if err == nil {
		err = ctx.Err()
	}
	var raw interface{}
	if err == nil {
		raw, err = rpc.Dispense(PluginName)
	}
	if err != nil {
		c.Close()
		return nil, c.launchError(cfg, err)
	}
	m, ok := raw.(*client)
	if !ok {
		c.Close()
		return fail(fmt.Errorf("unexpected plugin type %T", raw))
	}
	m.timeout = cfg.CallTimeout
	m.describe = c.describe
	c.Manager = m
	c.protocol = c.gp.NegotiatedVersion()
	// The kind a file identified as is the file's: asked once per file
	// identity, not on every launch (a round trip of every command).
	if cfg.Kind != "" && !(known && cache.knownKind(id) == cfg.Kind) {
		if err := c.checkKind(ctx, cfg); err != nil {
			c.Close()
			return nil, err
		}
		if known {
			cache.rememberKind(id, cfg.Kind, time.Now())
		}
	}
	return c, nil
}

// verifyChecksum checks the open plugin f against cfg.Checksum: hashed,
// unless this user's digest cache says this very file (id, from the open
// file's status; known false: none) was hashed to it before.
func verifyChecksum(f *os.File, cache sumCache, id fileIdentity, known bool, cfg LaunchConfig) error {
	if known && cache.verified(id, cfg.Checksum) {
		return nil
	}
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(f, 0, 1<<62)); err != nil {
		return &PluginError{Plugin: cfg.Path, Op: "launch", Err: fmt.Errorf("reading it for its checksum: %w", err)}
	}
	got := h.Sum(nil)
	if !bytes.Equal(got, cfg.Checksum) {
		return &ChecksumError{Path: cfg.Path, Want: hex.EncodeToString(cfg.Checksum), Got: hex.EncodeToString(got)}
	}
	if known {
		cache.remember(id, got, time.Now())
	}
	return nil
}

// sumCache is the digest cache Launch uses: SumCache when set, else the
// user's.
func (cfg LaunchConfig) sumCache() sumCache {
	if cfg.SumCache != "" {
		return sumCache{Path: cfg.SumCache}
	}
	return defaultSumCache()
}

// checkKind asks the plugin its kind, within the start timeout: a plugin
// that cannot answer is a launch failure, one of another kind is refused.
func (c *Client) checkKind(ctx context.Context, cfg LaunchConfig) error {
	ictx, cancel := context.WithTimeout(ctx, cfg.StartTimeout)
	defer cancel()
	id, err := c.Identify(ictx)
	if err != nil {
		var pe *PluginError
		if errors.As(err, &pe) {
			return &PluginError{Plugin: cfg.Path, Op: "launch", Err: fmt.Errorf("identify: %w", pe.Err), Output: pe.Output}
		}
		return &PluginError{Plugin: cfg.Path, Op: "launch", Err: fmt.Errorf("identify: %w", err), Output: c.stderr.String()}
	}
	if id.Kind != cfg.Kind {
		return &KindError{Path: cfg.Path, Want: cfg.Kind, Got: id.Kind}
	}
	return nil
}

func (c *Client) launchError(cfg LaunchConfig, err error) error {
	msg := err.Error()
	var addr *AddressError
	switch {
	case errors.As(err, &addr):
		// go-plugin returns it as is: keep it typed, with its hint.
	case strings.Contains(msg, "Unrecognized remote plugin message"),
		strings.Contains(msg, "Incompatible API version"),
		strings.Contains(msg, "exited before we could connect") && strings.Contains(c.stderr.String(), "This binary is a plugin"):
		err = fmt.Errorf("it is not a hermes plugin, or speaks another protocol: %w", err)
	case strings.Contains(msg, "timeout while waiting for plugin to start"):
		err = fmt.Errorf("no handshake within %s (the plugin was killed, with its process group): %w", cfg.StartTimeout, context.DeadlineExceeded)
	}
	return &PluginError{Plugin: cfg.Path, Op: "launch", Err: err, Output: c.stderr.String()}
}

// describe names the plugin in a transport failure, and says whether it died.
func (c *Client) describe(op string, err error) error {
	if !errors.Is(err, context.DeadlineExceeded) {
		// A broken connection is often a plugin on its way out: give it a
		// moment to finish dying, so the error can say so.
		_ = wait.Poll{What: "the plugin to exit", Timeout: 250 * time.Millisecond, Interval: 10 * time.Millisecond}.
			Until(context.Background(), func() (bool, error) { return c.gp.Exited(), nil })
	}
	if c.gp.Exited() {
		err = fmt.Errorf("the plugin exited: %w", err)
	}
	return &PluginError{Plugin: c.path, Op: op, Err: err, Output: c.stderr.String()}
}

// Path is the plugin executable.
func (c *Client) Path() string { return c.path }

// Protocol is the wire protocol version agreed in the handshake.
func (c *Client) Protocol() int { return c.protocol }

// Exited reports whether the plugin process has ended.
func (c *Client) Exited() bool { return c.gp.Exited() }

// Pid is the plugin's process id, 0 once it has ended.
func (c *Client) Pid() int { return c.runner.Pid() }

// Close ends the plugin, with its process group, and removes its socket
// folder. A plugin with no call under way has nothing left to finish: it
// is ended at once, not asked to shut down and waited for (a status would
// spend a tenth of its time on that). One with a call under way (a signal
// closing the host mid-call) is shut down gracefully first, so that the
// call can finish, then by force. It is safe to call more than once.
func (c *Client) Close() {
	c.closeOnce.Do(func() {
		if m, ok := c.Manager.(*client); ok && m.busy.Load() == 0 {
			_ = c.runner.Kill(context.Background())
		}
		c.gp.Kill()
		_ = c.runner.Kill(context.Background())
		if c.runner.socketDir != "" {
			_ = os.RemoveAll(c.runner.socketDir)
		}
	})
}

// CleanupAll ends every plugin this process launched; call it on the host's
// way out (signal handlers included).
func CleanupAll() {
	goplugin.CleanupClients()
	removeSocketParent()
}

// KindError is a plugin that identifies as another backend than the one
// its file is named for: hermes-service-s6 must be the s6 backend.
type KindError struct {
	Path string
	// Want is the kind of the file name, Got the kind the plugin reports.
	Want, Got string
}

func (e *KindError) Error() string {
	return fmt.Sprintf("plugin %s is named for the %s backend but identifies as %q; refusing to use it", e.Path, e.Want, e.Got)
}

// Hint says how to recover.
func (e *KindError) Hint() string {
	return fmt.Sprintf("a plugin must be named %s<kind> for the kind it reports: reinstall the %s%s package, or rename the file",
		FilePrefix, FilePrefix, e.Want)
}

// ChecksumError is a plugin whose SHA-256 differs from its recorded one.
type ChecksumError struct {
	Path string
	Want string
	Got  string
}

func (e *ChecksumError) Error() string {
	return fmt.Sprintf("plugin %s failed verification: SHA-256 is %s, its checksum file says %s; refusing to launch it",
		e.Path, e.Got, e.Want)
}

// Hint says how to recover.
func (e *ChecksumError) Hint() string {
	return "reinstall the plugin's package, or if you built it yourself, update the checksum file beside it"
}

// FileSHA256 is the hex SHA-256 of a file, as sha256sum prints it (the
// checksum files beside a plugin use it).
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// tail keeps the last max bytes written to it.
type tail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

// String is the kept output, minus go-plugin's JSON log lines (the logger
// shows those) so that what remains is what a crashing plugin printed.
func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []string
	for _, line := range strings.Split(string(t.buf), "\n") {
		if line == "" || strings.HasPrefix(line, "{\"@") {
			continue
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}

// lineLogger logs what a plugin writes to its redirected stdout or stderr:
// a stray print is reported, never fatal.
type lineLogger struct {
	log  hclog.Logger
	msg  string
	tail *tail // also keeps the lines for error messages, when set
}

func (l lineLogger) Write(p []byte) (int, error) {
	if l.tail != nil {
		_, _ = l.tail.Write(p)
	}
	for _, line := range bytes.Split(bytes.TrimRight(p, "\n"), []byte("\n")) {
		l.log.Warn(l.msg, "line", string(line))
	}
	return len(p), nil
}
