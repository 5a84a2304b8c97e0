// Package testbin builds the programs tests run as real processes (test
// plugins, a test gateway, hermes itself, the fake init-system tools);
// never shipped.
//
// Every package's tests need some of the same programs, and `go test ./...`
// runs those packages as separate processes, in parallel. So the binaries
// live in one cache for the whole run (and the runs after it), a folder
// under the system's temporary folder: each program is linked once, by the
// first test binary that asks, while the others wait on a file lock, and
// every test takes it from there.
//
// A cached binary is named by a hash of everything it is built from: the
// build ID of every package it links, as `go list -deps -export` reports
// them (each covers that package's sources, embedded files, compiler and
// target), plus the build's own flags. Any change to any of them is a new
// name, so a stale binary is never reused.
package testbin

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/gofrs/flock"

	"github.com/nousresearch/hermes-service/internal/buildtags"
)

// buildFlags are the flags of every build; part of the cache key.
var buildFlags = []string{"-trimpath", "-tags=" + buildtags.Tags}

// buildEnv is the environment of every go command here; part of the key.
var buildEnv = []string{"CGO_ENABLED=0"}

// unused is how long a cached binary may go unused before a build removes it.
const unused = 24 * time.Hour

var (
	mu     sync.Mutex
	cached = map[string]string{} // package -> cached binary, for this process
	builds int                   // links done by this process, for the tests
)

// Build puts the main package pkg's binary into dir, named after pkg's last
// path element, and returns its path. The binary is the run's shared one,
// built at most once; dir gets a name of its own for it, so that a test may
// look for processes running its own binary (a process's executable is the
// name it was started by) without seeing other packages' tests. The name is
// a hard link where the file system allows, else a copy: a test must not
// change the file.
func Build(dir, pkg string) (string, error) {
	src, err := Cached(pkg)
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, path.Base(pkg))
	if err := os.Remove(out); err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	// A link also spares the test process an open-for-writing file that a
	// child forked at that moment could inherit, which would make the
	// binary "text file busy" for a while.
	if os.Link(src, out) == nil {
		return out, nil
	}
	return out, copyFile(out, src)
}

// Cached returns the shared binary of the main package pkg, building it when
// the cache lacks it. The file is shared by every test of the run: run it,
// or copy it, never change it.
func Cached(pkg string) (string, error) {
	mu.Lock()
	defer mu.Unlock()
	if p, ok := cached[pkg]; ok {
		return p, nil
	}
	p, err := cache(pkg)
	if err != nil {
		return "", err
	}
	cached[pkg] = p
	return p, nil
}

// Dir is the cache folder: $HERMES_TESTBIN_CACHE, or one per user in the
// temporary folder.
func Dir() string {
	if d := os.Getenv("HERMES_TESTBIN_CACHE"); d != "" {
		return d
	}
	name := "hermes-testbin"
	if uid := os.Getuid(); uid >= 0 {
		name += fmt.Sprintf("-%d", uid)
	}
	return filepath.Join(os.TempDir(), name)
}

func cache(pkg string) (string, error) {
	key, err := key(pkg)
	if err != nil {
		return "", err
	}
	dir := Dir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	name := path.Base(pkg) + "-" + key
	bin := filepath.Join(dir, name)
	lock := flock.New(bin + ".lock")
	if err := lock.Lock(); err != nil {
		return "", fmt.Errorf("lock %s: %w", lock.Path(), err)
	}
	defer lock.Unlock()
	if _, err := os.Stat(bin); err == nil {
		now := time.Now()
		_ = os.Chtimes(bin, now, now) // in use: not one to prune
		return bin, nil
	}
	// Built beside its final name, then renamed into place: a reader never
	// sees half a binary, even one that does not take the lock.
	tmp := bin + ".tmp"
	cmd := exec.Command("go", append(append([]string{"build"}, buildFlags...), "-o", tmp, pkg)...)
	cmd.Env = append(os.Environ(), buildEnv...)
	if msg, err := cmd.CombinedOutput(); err != nil {
		_ = os.Remove(tmp)
		return "", fmt.Errorf("go build %s: %w\n%s", pkg, err, msg)
	}
	builds++
	if err := os.Rename(tmp, bin); err != nil {
		_ = os.Remove(tmp)
		return "", err
	}
	prune(dir, name)
	return bin, nil
}

// key hashes the build IDs of pkg and every package it links, with the
// build's flags and environment.
func key(pkg string) (string, error) {
	cmd := exec.Command("go", append(append([]string{"list", "-deps", "-export"}, buildFlags...),
		"-f", "{{.ImportPath}} {{.BuildID}}", pkg)...)
	cmd.Env = append(os.Environ(), buildEnv...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go list %s: %w\n%s", pkg, err, stderr.String())
	}
	h := sha256.New()
	fmt.Fprintf(h, "flags %q env %q\n", buildFlags, buildEnv)
	h.Write(out)
	return hex.EncodeToString(h.Sum(nil))[:24], nil
}

// prune removes the binaries (and their locks) nobody has used for a day,
// all but the one just built.
func prune(dir, keep string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		name := e.Name()
		if name == keep || strings.HasSuffix(name, ".lock") || strings.HasSuffix(name, ".tmp") {
			continue
		}
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > unused {
			_ = os.Remove(filepath.Join(dir, name))
			_ = os.Remove(filepath.Join(dir, name+".lock"))
		}
	}
}

func copyFile(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// Main is a test package's TestMain around its helper binaries: setup gets
// a fresh folder to put them in (Build into it); a failure ends the test
// binary with the error before any test runs. The folder goes when the
// tests are done.
// The folder is a TrustedTemp one, so that hermes trusts the plugins in it
// (and beside a hermes in it).
func Main(m interface{ Run() int }, setup func(dir string) error) {
	dir, err := TrustedTemp("hermes-test-")
	if err == nil {
		err = setup(dir)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
