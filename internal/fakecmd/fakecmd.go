// Package fakecmd scripts the fake init-system tools tests put first on
// PATH (cmd/fakecmd), and reads back what they were called with.
package fakecmd

import (
	"bufio"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nousresearch/hermes-service/internal/testbin"
)

// Reply is one scripted answer.
type Reply struct {
	// Argv is the pattern: the tool's name, then its arguments; "*" matches
	// any one argument, "**" as the last element any rest.
	Argv   []string `json:"argv"`
	Stdout string   `json:"stdout,omitempty"`
	Stderr string   `json:"stderr,omitempty"`
	Exit   int      `json:"exit,omitempty"`
	// Hold keeps the tool running after its output until killed (a follow).
	Hold bool `json:"hold,omitempty"`
}

// Load reads a script; no path is an empty script.
func Load(path string) ([]Reply, error) {
	if path == "" {
		return nil, nil
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var rs []Reply
	return rs, json.Unmarshal(data, &rs)
}

// Match is the first reply whose pattern matches argv.
func Match(rs []Reply, argv []string) *Reply {
	for i := range rs {
		if matches(rs[i].Argv, argv) {
			return &rs[i]
		}
	}
	return nil
}

func matches(pattern, argv []string) bool {
	for i, p := range pattern {
		if p == "**" && i == len(pattern)-1 {
			return true
		}
		if i >= len(argv) || (p != "*" && p != argv[i]) {
			return false
		}
	}
	return len(pattern) == len(argv)
}

// Tools is a folder of fake tools, each the fakecmd binary under a tool's
// name, with its script and call log.
type Tools struct {
	Dir    string
	Script string
	Log    string
}

// Install puts fakecmd into dir (testbin.Build: built once per test run)
// and links it in dir/bin as each named tool.
func Install(dir string, names ...string) (*Tools, error) {
	bin := filepath.Join(dir, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return nil, err
	}
	exe, err := testbin.Build(dir, "github.com/nousresearch/hermes-service/internal/fakecmd/cmd/fakecmd")
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		if err := os.Symlink(exe, filepath.Join(bin, n)); err != nil {
			return nil, err
		}
	}
	return &Tools{Dir: bin, Script: filepath.Join(dir, "script.json"), Log: filepath.Join(dir, "calls.log")}, nil
}

// Env points the fake tools at their script and log, first on PATH.
func (t *Tools) Env() []string {
	return []string{"PATH=" + t.Dir + string(os.PathListSeparator) + os.Getenv("PATH"),
		"FAKECMD_SCRIPT=" + t.Script, "FAKECMD_LOG=" + t.Log}
}

// Set replaces the replies.
func (t *Tools) Set(rs ...Reply) error {
	data, err := json.Marshal(rs)
	if err != nil {
		return err
	}
	return os.WriteFile(t.Script, data, 0o644)
}

// Calls returns every recorded call, oldest first, each joined by spaces.
func (t *Tools) Calls() []string {
	f, err := os.Open(t.Log)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var argv []string
		if json.Unmarshal(sc.Bytes(), &argv) == nil {
			out = append(out, strings.Join(argv, " "))
		}
	}
	return out
}

// Reset forgets the recorded calls.
func (t *Tools) Reset() { _ = os.Remove(t.Log) }

// InstallForTest is Install for one test: the fakes go into dir and are
// first on PATH (with their script and log) until the test ends.
func InstallForTest(t testing.TB, dir string, names ...string) *Tools {
	t.Helper()
	tools, err := Install(dir, names...)
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range tools.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	return tools
}
