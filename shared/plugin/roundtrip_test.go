package plugin_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/nousresearch/hermes-service/internal/testbackend"
	"github.com/nousresearch/hermes-service/shared/plugin"
	"github.com/nousresearch/hermes-service/shared/plugintest"
	"github.com/nousresearch/hermes-service/shared/service"
)

func launch(t testing.TB, cfg plugin.LaunchConfig) *plugin.Client {
	t.Helper()
	if cfg.Path == "" {
		cfg.Path = testPlugin
	}
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	c, err := plugin.Launch(context.Background(), cfg)
	if err != nil {
		t.Fatalf("launch: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// op is one call that should fail, run both in process and over the wire.
type op func(ctx context.Context, m service.Manager) error

func start(p string) op {
	return func(ctx context.Context, m service.Manager) error { return m.Start(ctx, p) }
}

func stop(p string) op {
	return func(ctx context.Context, m service.Manager) error { return m.Stop(ctx, p) }
}

func register(p string) op {
	return func(ctx context.Context, m service.Manager) error {
		return m.Register(ctx, p, service.RegisterOptions{})
	}
}

// TestErrorsCrossTheWire checks that every typed error comes back from a
// real plugin process as the same Go value the backend returned, fields
// intact, and that errors.Is and errors.As work on it.
func TestErrorsCrossTheWire(t *testing.T) {
	tests := []struct {
		name string
		caps string // HERMES_TESTBACKEND_CAPS
		call op
		want error // nil: what the backend returns in process
		is   []error
		as   any
	}{
		{name: "command failed", call: start("cmdfail"), is: []error{service.ErrCommandFailed}, as: new(*service.CommandFailedError)},
		{name: "permission denied", call: stop("denied"), is: []error{service.ErrPermission, fs.ErrPermission}, as: new(*service.PermissionError)},
		{name: "invalid option", call: start("badopt"), is: []error{service.ErrInvalidOption}, as: new(*service.InvalidOptionError)},
		{name: "already exists", call: register("exists"), is: []error{service.ErrAlreadyExists}, as: new(*service.AlreadyExistsError)},
		{name: "not registered", call: start("nobody"), is: []error{service.ErrNotFound}, as: new(*service.NotRegisteredError)},
		{name: "not installed", caps: "install", call: start("nobody"), is: []error{service.ErrNotFound}, as: new(*service.NotInstalledError)},
		{name: "invalid profile", call: start("Coder"), want: service.ValidateProfile("Coder"),
			is: []error{service.ErrInvalidProfile}, as: new(*service.InvalidProfileError)},
		{name: "invalid env key", call: func(ctx context.Context, m service.Manager) error {
			return m.Register(ctx, "work", service.RegisterOptions{Env: map[string]string{"BAD-KEY": "x"}})
		}, want: service.ValidateEnv(map[string]string{"BAD-KEY": "x"}), is: []error{service.ErrInvalidOption}, as: new(*service.InvalidOptionError)},
		{name: "unsupported", caps: "none", call: register("work"),
			want: &service.UnsupportedError{Operation: "register", Backend: testbackend.Kind,
				HintText: "runtime registration exists on the s6 backend only; use hermes gateway install instead"},
			is: []error{service.ErrUnsupported, errors.ErrUnsupported}, as: new(*service.UnsupportedError)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			t.Setenv("HERMES_TESTBACKEND_CAPS", tt.caps)
			want := tt.want
			if want == nil {
				want = tt.call(ctx, testbackend.New())
			}
			c := launch(t, plugin.LaunchConfig{})
			got := tt.call(ctx, c)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("over the wire: %T %#v\nin process:    %T %#v", got, got, want, want)
			}
			for _, target := range tt.is {
				if !errors.Is(got, target) {
					t.Errorf("errors.Is(%v, %v) = false", got, target)
				}
			}
			if !errors.As(got, tt.as) {
				t.Errorf("errors.As(%T) = false", tt.as)
			}
			if service.HintOf(got) == "" {
				t.Errorf("%v has no hint", got)
			}
		})
	}
}

func TestUntypedErrorKeepsItsMessage(t *testing.T) {
	c := launch(t, plugin.LaunchConfig{})
	err := c.Start(context.Background(), "plain")
	var remote *plugin.RemoteError
	if !errors.As(err, &remote) || remote.Message != "an untyped failure from the test backend" {
		t.Fatalf("got %T %v", err, err)
	}
}

func TestLogStream(t *testing.T) {
	c := launch(t, plugin.LaunchConfig{})
	ctx := context.Background()
	if err := c.Register(ctx, "work", service.RegisterOptions{}); err != nil {
		t.Fatal(err)
	}
	var lines []service.LogLine
	err := c.Logs(ctx, "work", service.LogOptions{Lines: 5}, func(l service.LogLine) error {
		lines = append(lines, l)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 5 || lines[0].Text != "work line 96" || lines[4].Text != "work line 100" {
		t.Fatalf("got %+v", lines)
	}
	if lines[0].Time.IsZero() || !lines[0].Time.Before(lines[4].Time) {
		t.Fatalf("timestamps did not cross: %+v", lines)
	}

	// Follow streams until the host cancels, and that is not an error.
	fctx, cancel := context.WithCancel(ctx)
	var followed []string
	err = c.Logs(fctx, "work", service.LogOptions{Lines: 1, Follow: true}, func(l service.LogLine) error {
		followed = append(followed, l.Text)
		if len(followed) == 4 {
			cancel()
		}
		return nil
	})
	if err != nil {
		t.Fatalf("follow ended with %v", err)
	}
	if followed[0] != "work line 100" || followed[3] != "work line 103" {
		t.Fatalf("followed %v", followed)
	}

	// An error from emit stops the stream and comes back as is.
	stopErr := errors.New("enough")
	err = c.Logs(ctx, "work", service.LogOptions{Follow: true}, func(service.LogLine) error { return stopErr })
	if !errors.Is(err, stopErr) {
		t.Fatalf("got %v, want the emit error", err)
	}
	// Unknown profile: not found, before any line.
	err = c.Logs(ctx, "nobody", service.LogOptions{}, func(service.LogLine) error { return nil })
	if !errors.Is(err, service.ErrNotFound) {
		t.Fatalf("got %v", err)
	}
}

func TestDeadlineHitsAHangingBackend(t *testing.T) {
	c := launch(t, plugin.LaunchConfig{})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := c.Start(ctx, "hang")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %T %v, want DeadlineExceeded", err, err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("took %s", took)
	}
	// The plugin is still usable afterwards.
	if _, err := c.Identify(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestDefaultCallTimeout(t *testing.T) {
	c := launch(t, plugin.LaunchConfig{CallTimeout: 300 * time.Millisecond})
	err := c.Stop(context.Background(), "hang")
	var pe *plugin.PluginError
	if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &pe) || pe.Op != "stop" {
		t.Fatalf("got %T %v", err, err)
	}
	if !strings.Contains(service.HintOf(err), "did not answer in time") {
		t.Fatalf("hint: %q", service.HintOf(err))
	}
}

func TestCancelReturnsPromptly(t *testing.T) {
	c := launch(t, plugin.LaunchConfig{})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	err := c.Restart(ctx, "hang")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
}

func TestPanickingBackend(t *testing.T) {
	c := launch(t, plugin.LaunchConfig{})
	err := c.Start(context.Background(), "panic")
	if err == nil || !strings.Contains(err.Error(), "panicked during start") {
		t.Fatalf("got %v", err)
	}
	if c.Exited() {
		t.Fatal("a panic in one call took the plugin down")
	}
	if _, err := c.Status(context.Background(), "work"); err != nil {
		t.Fatal(err)
	}
}

func TestPluginThatDiesMidCall(t *testing.T) {
	c := launch(t, plugin.LaunchConfig{})
	start := time.Now()
	err := c.Start(context.Background(), "crash")
	var pe *plugin.PluginError
	if !errors.As(err, &pe) {
		t.Fatalf("got %T %v", err, err)
	}
	if !strings.Contains(err.Error(), "exited") || !strings.Contains(pe.Output, "crashing on purpose") {
		t.Fatalf("got %v (output %q)", err, pe.Output)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatalf("took %s", time.Since(start))
	}
	if !c.Exited() {
		t.Fatal("plugin still running")
	}
}

func TestHarnessInProcess(t *testing.T) {
	m := plugintest.Harness(t, testbackend.New())
	ctx := context.Background()
	if err := m.Register(ctx, "work", service.RegisterOptions{StartNow: true, Env: map[string]string{"A": "b c"}}); err != nil {
		t.Fatal(err)
	}
	st, err := m.Status(ctx, "work")
	if err != nil {
		t.Fatal(err)
	}
	if st.State != service.StateRunning || st.PID == nil || st.Since == nil || !st.Installed {
		t.Fatalf("status %+v", st)
	}
	var nr *service.NotRegisteredError
	if err := m.Stop(ctx, "other"); !errors.As(err, &nr) || nr.Profile != "other" {
		t.Fatalf("got %v", err)
	}
	sts, err := m.Statuses(ctx, nil)
	if err != nil || len(sts) != 1 || sts[0].Profile != "work" {
		t.Fatalf("statuses %+v %v", sts, err)
	}
}

// TestStopTimeoutCrossesTheWire: install, register and reconcile carry the
// chosen stop timeout to the backend as given (0 stays 0: the backend's
// default), and the server refuses a negative one before the backend sees
// it.
func TestStopTimeoutCrossesTheWire(t *testing.T) {
	t.Setenv("HERMES_TESTBACKEND_CAPS", "install,registration")
	backend := testbackend.New()
	m := plugintest.Harness(t, backend)
	ctx := context.Background()
	calls := map[string]func(p string, d time.Duration) error{
		"install": func(p string, d time.Duration) error {
			return m.Install(ctx, p, service.InstallOptions{StopTimeout: d})
		},
		"register": func(p string, d time.Duration) error {
			return m.Register(ctx, p, service.RegisterOptions{StopTimeout: d})
		},
		"reconcile": func(p string, d time.Duration) error {
			return m.Reconcile(ctx, []service.Registration{{Profile: p, RegisterOptions: service.RegisterOptions{StopTimeout: d}}})
		},
	}
	for name, call := range calls {
		for _, d := range []time.Duration{0, 2 * time.Minute, 1500 * time.Millisecond} {
			p := fmt.Sprintf("%s-%d", name, d.Milliseconds())
			if err := call(p, d); err != nil {
				t.Fatalf("%s %s: %v", name, d, err)
			}
			if got := backend.StopTimeout(p); got != d {
				t.Errorf("%s %s: the backend got %s", name, d, got)
			}
		}
		var inv *service.InvalidOptionError
		if err := call(name+"-negative", -time.Second); !errors.As(err, &inv) || inv.Option != "stop-timeout" {
			t.Errorf("%s with a negative stop timeout: %v", name, err)
		}
		if _, _, ok := backend.Options(name + "-negative"); ok {
			t.Errorf("%s: the backend saw a negative stop timeout", name)
		}
	}
}
