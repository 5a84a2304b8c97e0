package testbin

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

const fakecmd = "github.com/nousresearch/hermes-service/internal/fakecmd/cmd/fakecmd"

// TestMain doubles as a test binary of another package: with
// TESTBIN_HELPER set it asks for fakecmd and prints its path and how many
// links it did.
func TestMain(m *testing.M) {
	if os.Getenv("TESTBIN_HELPER") != "" {
		p, err := Cached(fakecmd)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println(p, builds)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestOneBuildPerRun starts test binaries side by side, the way go test
// ./... starts packages, on an empty cache: one of them links fakecmd, all
// get the same file, and a Build gives a copy of its own.
func TestOneBuildPerRun(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("HERMES_TESTBIN_CACHE", cache)
	tests := []struct {
		name       string
		processes  int
		wantBuilds int
	}{
		{"an empty cache: one of them links", 4, 1},
		{"a full cache: nobody links", 3, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			outs := make([]string, tt.processes)
			errs := make([]error, tt.processes)
			var wg sync.WaitGroup
			for i := range outs {
				wg.Go(func() {
					cmd := exec.Command(os.Args[0], "-test.run=^$")
					cmd.Env = append(os.Environ(), "TESTBIN_HELPER=1")
					out, err := cmd.Output()
					outs[i], errs[i] = strings.TrimSpace(string(out)), err
				})
			}
			wg.Wait()
			paths := map[string]bool{}
			total := 0
			for i, out := range outs {
				if errs[i] != nil {
					t.Fatalf("helper %d: %v", i, errs[i])
				}
				var p string
				var n int
				if _, err := fmt.Sscan(out, &p, &n); err != nil {
					t.Fatalf("helper %d printed %q", i, out)
				}
				paths[p] = true
				total += n
			}
			if total != tt.wantBuilds || len(paths) != 1 {
				t.Fatalf("%d links, paths %v; want %d links of one path", total, paths, tt.wantBuilds)
			}
			for p := range paths {
				if filepath.Dir(p) != cache {
					t.Fatalf("%s is not in the cache %s", p, cache)
				}
			}
			if left, _ := filepath.Glob(filepath.Join(cache, "*.tmp")); len(left) != 0 {
				t.Fatalf("left behind: %v", left)
			}
		})
	}
	dir := t.TempDir()
	got, err := Build(dir, fakecmd)
	if err != nil {
		t.Fatal(err)
	}
	if got != filepath.Join(dir, "fakecmd") {
		t.Fatalf("Build put it at %s", got)
	}
	src, _ := Cached(fakecmd)
	a, _ := os.ReadFile(src)
	b, err := os.ReadFile(got)
	if err != nil || len(a) == 0 || !bytes.Equal(a, b) {
		t.Fatalf("Build's copy differs from %s: %v", src, err)
	}
}
