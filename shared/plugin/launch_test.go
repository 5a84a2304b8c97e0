package plugin_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/nousresearch/hermes-service/shared/plugin"
	"github.com/nousresearch/hermes-service/shared/service"
)

// fakeHost is what the test binary does when re-run as a host: launch the
// plugin named in HERMES_TEST_PLUGIN, print its pid, and wait to be killed.
func fakeHost() int {
	c, err := plugin.Launch(context.Background(), plugin.LaunchConfig{
		Path: os.Getenv("HERMES_TEST_PLUGIN"), Logger: hclog.NewNullLogger()})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println(c.Pid())
	time.Sleep(time.Hour)
	return 0
}

func launchErr(t *testing.T, cfg plugin.LaunchConfig) (*plugin.PluginError, time.Duration) {
	t.Helper()
	if cfg.Path == "" {
		cfg.Path = testPlugin
	}
	cfg.Logger = hclog.NewNullLogger()
	start := time.Now()
	c, err := plugin.Launch(context.Background(), cfg)
	took := time.Since(start)
	if err == nil {
		c.Close()
		t.Fatal("launch succeeded")
	}
	var pe *plugin.PluginError
	if !errors.As(err, &pe) {
		t.Fatalf("got %T %v, want *plugin.PluginError", err, err)
	}
	if pe.Op != "launch" || pe.Plugin != cfg.Path || service.HintOf(err) == "" {
		t.Fatalf("error %+v (hint %q)", pe, service.HintOf(err))
	}
	assertNoProcess(t, cfg.Path)
	return pe, took
}

func TestLaunchFailures(t *testing.T) {
	t.Run("plugin exits at once", func(t *testing.T) {
		t.Setenv("HERMES_TESTBACKEND_MODE", "exit")
		pe, _ := launchErr(t, plugin.LaunchConfig{})
		if !strings.Contains(pe.Output, "exiting at once on purpose") {
			t.Fatalf("output not shown: %v", pe)
		}
	})
	t.Run("plugin hangs in the handshake", func(t *testing.T) {
		t.Setenv("HERMES_TESTBACKEND_MODE", "hang")
		pe, took := launchErr(t, plugin.LaunchConfig{StartTimeout: 500 * time.Millisecond})
		if !errors.Is(pe, context.DeadlineExceeded) || took > 5*time.Second {
			t.Fatalf("got %v after %s", pe, took)
		}
	})
	t.Run("plugin prints garbage", func(t *testing.T) {
		t.Setenv("HERMES_TESTBACKEND_MODE", "garbage")
		pe, _ := launchErr(t, plugin.LaunchConfig{})
		if !strings.Contains(pe.Error(), "not a hermes plugin") {
			t.Fatalf("got %v", pe)
		}
	})
	t.Run("a shell script", func(t *testing.T) {
		script := filepath.Join(t.TempDir(), "hermes-service-script")
		if err := os.WriteFile(script, []byte("#!/bin/sh\necho garbage\necho more garbage >&2\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		pe, _ := launchErr(t, plugin.LaunchConfig{Path: script})
		if !strings.Contains(pe.Error(), "not a hermes plugin") {
			t.Fatalf("got %v", pe)
		}
	})
	t.Run("a folder", func(t *testing.T) {
		pe, _ := launchErr(t, plugin.LaunchConfig{Path: t.TempDir()})
		if !strings.Contains(pe.Error(), "folder") {
			t.Fatalf("got %v", pe)
		}
	})
	t.Run("a missing file", func(t *testing.T) {
		pe, _ := launchErr(t, plugin.LaunchConfig{Path: filepath.Join(t.TempDir(), "nothing")})
		if !errors.Is(pe, os.ErrNotExist) {
			t.Fatalf("got %v", pe)
		}
	})
	t.Run("a cancelled context", func(t *testing.T) {
		t.Setenv("HERMES_TESTBACKEND_MODE", "hang")
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := plugin.Launch(ctx, plugin.LaunchConfig{Path: testPlugin, Logger: hclog.NewNullLogger(), StartTimeout: time.Minute})
		if err == nil || time.Since(start) > 10*time.Second {
			t.Fatalf("got %v after %s", err, time.Since(start))
		}
		assertNoProcess(t, testPlugin)
	})
}

func TestChecksum(t *testing.T) {
	data, err := os.ReadFile(testPlugin)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	c := launch(t, plugin.LaunchConfig{Checksum: sum[:]})
	if _, err := c.Identify(context.Background()); err != nil {
		t.Fatal(err)
	}
	c.Close()

	wrong := bytes.Repeat([]byte{0xab}, sha256.Size)
	_, err = plugin.Launch(context.Background(), plugin.LaunchConfig{Path: testPlugin, Checksum: wrong, Logger: hclog.NewNullLogger()})
	var ce *plugin.ChecksumError
	if !errors.As(err, &ce) {
		t.Fatalf("got %T %v", err, err)
	}
	if !strings.Contains(err.Error(), strings.Repeat("ab", sha256.Size)) || !strings.Contains(err.Error(), fmt.Sprintf("%x", sum)) {
		t.Fatalf("both digests not named: %v", err)
	}
	assertNoProcess(t, testPlugin)
}

func TestSocketFolderIsPrivateAndRemoved(t *testing.T) {
	tmp, err := os.MkdirTemp("/tmp", "h") // short: see TestLongTempDir
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(tmp) })
	t.Setenv("TMPDIR", tmp)
	c := launch(t, plugin.LaunchConfig{})
	// In this process's folder, named for its pid so that a later run can
	// remove it if this one is killed.
	pattern := filepath.Join(tmp, fmt.Sprintf("hermes-plugin-%d-*", os.Getpid()), "plugin-dir*")
	if runtime.GOOS == "windows" {
		pattern = filepath.Join(tmp, "plugin-dir*")
	}
	dirs, _ := filepath.Glob(pattern)
	if len(dirs) != 1 {
		t.Fatalf("socket folders: %v", dirs)
	}
	info, err := os.Stat(dirs[0])
	if err != nil || info.Mode().Perm() != 0o700 {
		t.Fatalf("socket folder mode %v %v", info.Mode(), err)
	}
	c.Close()
	if _, err := os.Stat(dirs[0]); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("socket folder left behind: %v", err)
	}
}

// TestLongTempDir: a temporary folder too deep for a socket path (the
// kernel takes 104 to 108 bytes) still launches: the socket folder goes
// to /tmp instead.
func TestLongTempDir(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix sockets")
	}
	long := filepath.Join(t.TempDir(), strings.Repeat("d", 80))
	if err := os.Mkdir(long, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TMPDIR", long)
	c := launch(t, plugin.LaunchConfig{})
	defer c.Close()
	if _, err := c.Identify(context.Background()); err != nil {
		t.Fatal(err)
	}
}
