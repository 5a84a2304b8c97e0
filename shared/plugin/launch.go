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
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"

	"github.com/nousresearch/hermes-service/internal/wait"
	"github.com/nousresearch/hermes-service/shared/service"
)

// DefaultStartTimeout bounds the handshake: a plugin that has not said where
// it listens by then is killed.
const DefaultStartTimeout = 5 * time.Second

// LaunchConfig says which plugin to start and how.
type LaunchConfig struct {
	// Path is the plugin executable.
	Path string
	// Env is added to the host's environment for the plugin (later entries
	// win), e.g. HERMES_HOME=/srv/hermes.
	Env []string
	// Logger receives the plugin's log lines; default: warnings and errors
	// on stderr.
	Logger hclog.Logger
	// Checksum is the SHA-256 the executable must have; nil skips the check.
	Checksum []byte
	// StartTimeout bounds the handshake; default DefaultStartTimeout.
	StartTimeout time.Duration
	// CallTimeout bounds each call whose context has no deadline; default
	// DefaultCallTimeout.
	CallTimeout time.Duration
}

// Client is a launched plugin: a service.Manager backed by a live process.
// Close it on every path; on Linux the plugin also dies with the host.
type Client struct {
	service.Manager
	path      string
	gp        *goplugin.Client
	protocol  int
	socketDir string
	stderr    *tail
	closeOnce sync.Once
	// kill ends the process through exec.CommandContext: unlike go-plugin's
	// Kill it works while the handshake is still in progress.
	kill context.CancelFunc
}

// Launch starts the plugin at cfg.Path, verifies it, completes the handshake
// and returns a Manager for it. A failure leaves no process behind.
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
	if err := ctx.Err(); err != nil {
		return nil, &PluginError{Plugin: cfg.Path, Op: "launch", Err: err}
	}
	if info, err := os.Stat(cfg.Path); err != nil {
		return nil, &PluginError{Plugin: cfg.Path, Op: "launch", Err: err}
	} else if info.IsDir() {
		return nil, &PluginError{Plugin: cfg.Path, Op: "launch", Err: errors.New("it is a folder, not an executable")}
	}

	c := &Client{path: cfg.Path, stderr: &tail{max: 4096}}
	procCtx, kill := context.WithCancel(context.Background())
	c.kill = kill
	cmd := exec.CommandContext(procCtx, cfg.Path)
	cmd.Env = append(os.Environ(), cfg.Env...)
	configureCmd(cmd)
	if dir, err := privateSocketDir(); err != nil {
		kill()
		return nil, &PluginError{Plugin: cfg.Path, Op: "launch", Err: err}
	} else if dir != "" {
		c.socketDir = dir
		cmd.Env = append(cmd.Env, goplugin.EnvUnixSocketDir+"="+dir)
	}

	var secure *goplugin.SecureConfig
	if cfg.Checksum != nil {
		secure = &goplugin.SecureConfig{Checksum: cfg.Checksum, Hash: sha256.New()}
	}
	c.gp = goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig:  Handshake,
		VersionedPlugins: pluginSets(nil),
		Cmd:              cmd,
		SkipHostEnv:      true, // cmd.Env already holds it, with ours winning
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		Managed:          true,
		SecureConfig:     secure,
		AutoMTLS:         autoMTLS,
		StartTimeout:     cfg.StartTimeout,
		Logger:           cfg.Logger,
		Stderr:           c.stderr,
		SyncStdout:       lineLogger{log: cfg.Logger, msg: "plugin wrote to stdout"},
		SyncStderr:       lineLogger{log: cfg.Logger, msg: "plugin wrote to stderr", tail: c.stderr},
	})

	// go-plugin's handshake knows no context: cancelling ctx kills the
	// plugin, which ends the handshake at once.
	stop := context.AfterFunc(ctx, kill)
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
		return nil, &PluginError{Plugin: cfg.Path, Op: "launch", Err: fmt.Errorf("unexpected plugin type %T", raw)}
	}
	m.timeout = cfg.CallTimeout
	m.describe = c.describe
	c.Manager = m
	c.protocol = c.gp.NegotiatedVersion()
	return c, nil
}

func (c *Client) launchError(cfg LaunchConfig, err error) error {
	if errors.Is(err, goplugin.ErrChecksumsDoNotMatch) {
		got, herr := FileSHA256(cfg.Path)
		if herr != nil {
			got = "unreadable: " + herr.Error()
		}
		return &ChecksumError{Path: cfg.Path, Want: hex.EncodeToString(cfg.Checksum), Got: got}
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "Unrecognized remote plugin message"),
		strings.Contains(msg, "Incompatible API version"),
		strings.Contains(msg, "exited before we could connect") && strings.Contains(c.stderr.String(), "This binary is a plugin"):
		err = fmt.Errorf("it is not a hermes plugin, or speaks another protocol: %w", err)
	case strings.Contains(msg, "timeout while waiting for plugin to start"):
		err = fmt.Errorf("no handshake within %s (the plugin was killed): %w", cfg.StartTimeout, context.DeadlineExceeded)
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
func (c *Client) Pid() int {
	if rc := c.gp.ReattachConfig(); rc != nil {
		return rc.Pid
	}
	return 0
}

// Close ends the plugin (gracefully, then by force) and removes its socket
// folder. It is safe to call more than once.
func (c *Client) Close() {
	c.closeOnce.Do(func() {
		c.gp.Kill()
		c.kill()
		if c.socketDir != "" {
			_ = os.RemoveAll(c.socketDir)
		}
	})
}

// CleanupAll ends every plugin this process launched; call it on the host's
// way out (signal handlers included).
func CleanupAll() { goplugin.CleanupClients() }

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
