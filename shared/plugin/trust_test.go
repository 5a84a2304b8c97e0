package plugin_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/nousresearch/hermes-service/shared/plugin"
	"github.com/nousresearch/hermes-service/shared/service"
)

// TestKind: a plugin must identify as the kind its name says.
func TestKind(t *testing.T) {
	c := launch(t, plugin.LaunchConfig{Kind: "test"})
	c.Close()
	_, err := plugin.Launch(context.Background(), plugin.LaunchConfig{Path: testPlugin, Kind: "s6", Logger: hclog.NewNullLogger()})
	var ke *plugin.KindError
	if !errors.As(err, &ke) || ke.Want != "s6" || ke.Got != "test" ||
		!strings.Contains(err.Error(), "named for the s6 backend but identifies as \"test\"") {
		t.Fatalf("got %T %v", err, err)
	}
	if !strings.Contains(service.HintOf(err), "hermes-service-s6 package") {
		t.Fatalf("hint %q", service.HintOf(err))
	}
	assertNoProcess(t, testPlugin)
}

// TestRelativePathRefused: a plugin is run by the absolute path it was
// checked at, never looked up on $PATH or in the working directory.
func TestRelativePathRefused(t *testing.T) {
	t.Chdir(filepath.Dir(testPlugin))
	_, err := plugin.Launch(context.Background(), plugin.LaunchConfig{Path: filepath.Base(testPlugin), Logger: hclog.NewNullLogger()})
	var pe *plugin.PluginError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "is not an absolute path") {
		t.Fatalf("got %v", err)
	}
}

// TestVerifyIsLaunchsError: Verify sees the opened file, and its refusal
// is Launch's error, nothing started.
func TestVerifyIsLaunchsError(t *testing.T) {
	refused := errors.New("not this one")
	var seen string
	_, err := plugin.Launch(context.Background(), plugin.LaunchConfig{Path: testPlugin, Logger: hclog.NewNullLogger(),
		Verify: func(f *os.File) error { seen = f.Name(); return refused }})
	if !errors.Is(err, refused) || seen != testPlugin {
		t.Fatalf("got %v, Verify saw %q", err, seen)
	}
}

// TestRunsTheCheckedFile: the file that runs is the one opened and
// verified, even when another takes its name in between.
func TestRunsTheCheckedFile(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("runs the open file through /proc")
	}
	data, err := os.ReadFile(testPlugin)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "hermes-service-test")
	if err := os.WriteFile(path, data, 0o755); err != nil {
		t.Fatal(err)
	}
	c := launch(t, plugin.LaunchConfig{Path: path, Kind: "test", Verify: func(*os.File) error {
		// Swap: an impostor takes the checked file's name.
		if err := os.Rename(path, path+".checked"); err != nil {
			return err
		}
		return os.WriteFile(path, []byte("#!/bin/sh\necho impostor\n"), 0o755)
	}})
	if _, err := c.Identify(context.Background()); err != nil {
		t.Fatalf("the checked plugin did not run: %v", err)
	}
}
