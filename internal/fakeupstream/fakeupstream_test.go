package fakeupstream_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/nousresearch/hermes-service/internal/fakeupstream"
	"github.com/nousresearch/hermes-service/internal/runner"
)

var (
	binDir    string // this test binary's own folder, removed at the end
	buildOnce sync.Once
	fakeBin   string
	buildErr  error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "fakeupstream-test-")
	if err != nil {
		panic(err)
	}
	binDir = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// fake is the fake upstream CLI, built once for the package's tests and
// benchmarks.
func fake(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() { fakeBin, buildErr = fakeupstream.Build(binDir) })
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return fakeBin
}

// cleanEnv is this process's environment without the fake's knobs, plus
// extra ("NAME=value").
func cleanEnv(extra ...string) []string {
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return slices.ContainsFunc(fakeupstream.Envs, func(name string) bool { return strings.HasPrefix(kv, name+"=") })
	})
	return append(env, extra...)
}

type result struct {
	stdout, stderr string
	code, pid      int
}

// runFake runs the fake with args, env added to a clean environment and
// stdin, to its end.
func runFake(t *testing.T, stdin string, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(fake(t), args...)
	cmd.Env = cleanEnv(env...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		t.Fatalf("run fake %q: %v", args, err)
	}
	return result{stdout.String(), stderr.String(), cmd.ProcessState.ExitCode(), cmd.Process.Pid}
}

func records(t *testing.T, path string) []fakeupstream.Record {
	t.Helper()
	recs, err := fakeupstream.Records(path)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// TestRecordsWhatItWasGiven: argv (spaces, quotes, empty words and all),
// the whole environment, the pid; one line per stream.
func TestRecordsWhatItWasGiven(t *testing.T) {
	rec := filepath.Join(t.TempDir(), "record.jsonl")
	args := []string{"chat", "-q", "two words", "", `a "quoted" \ word`, "--", "-p"}
	r := runFake(t, "ignored", []string{fakeupstream.EnvRecord + "=" + rec, "FAKE_TEST_VAR=x=y", "FAKE_TEST_EMPTY="}, args...)
	if r.code != 0 {
		t.Fatalf("exit %d, want 0; stderr %q", r.code, r.stderr)
	}
	if want := fakeupstream.ArgvLine(args) + "\n"; r.stdout != want {
		t.Errorf("stdout %q, want %q", r.stdout, want)
	}
	if want := fakeupstream.StderrLine + "\n"; r.stderr != want {
		t.Errorf("stderr %q, want %q", r.stderr, want)
	}
	recs := records(t, rec)
	if len(recs) != 1 {
		t.Fatalf("records %+v, want one", recs)
	}
	got := recs[0]
	if !slices.Equal(got.Argv, args) {
		t.Errorf("argv %q, want %q", got.Argv, args)
	}
	if got.Pid != r.pid {
		t.Errorf("pid %d, want %d", got.Pid, r.pid)
	}
	if got.Stdin != nil {
		t.Errorf("stdin %q recorded without %s", *got.Stdin, fakeupstream.EnvReadStdin)
	}
	if got.Signal != "" {
		t.Errorf("signal %q in a run's record", got.Signal)
	}
	if v, ok := got.Env["FAKE_TEST_VAR"]; !ok || v != "x=y" {
		t.Errorf("env FAKE_TEST_VAR = %q, %v; want x=y", v, ok)
	}
	if v, ok := got.Env["FAKE_TEST_EMPTY"]; !ok || v != "" {
		t.Errorf("env FAKE_TEST_EMPTY = %q, %v; want empty and set", v, ok)
	}
	if got.Env[fakeupstream.EnvRecord] != rec {
		t.Errorf("env %s = %q, want %q", fakeupstream.EnvRecord, got.Env[fakeupstream.EnvRecord], rec)
	}
}

// TestNoArgumentsIsAnEmptyArgv: a bare `hermes` is upstream's chat; the
// record says argv [] (not missing), the line says [].
func TestNoArgumentsIsAnEmptyArgv(t *testing.T) {
	rec := filepath.Join(t.TempDir(), "record.jsonl")
	r := runFake(t, "", []string{fakeupstream.EnvRecord + "=" + rec})
	if want := `fake upstream: argv=[]` + "\n"; r.stdout != want {
		t.Errorf("stdout %q, want %q", r.stdout, want)
	}
	recs := records(t, rec)
	if len(recs) != 1 || recs[0].Argv == nil || len(recs[0].Argv) != 0 {
		t.Fatalf("records %+v, want one with argv []", recs)
	}
}

// TestRecordsSelectedVariables: with EnvRecordEnv only the listed variables
// are kept, and a listed one that is unset is left out.
func TestRecordsSelectedVariables(t *testing.T) {
	rec := filepath.Join(t.TempDir(), "record.jsonl")
	runFake(t, "", []string{
		fakeupstream.EnvRecord + "=" + rec,
		fakeupstream.EnvRecordEnv + "=FAKE_TEST_A, FAKE_TEST_EMPTY,FAKE_TEST_UNSET",
		"FAKE_TEST_A=a", "FAKE_TEST_B=b", "FAKE_TEST_EMPTY=",
	}, "status")
	recs := records(t, rec)
	if len(recs) != 1 {
		t.Fatalf("records %+v, want one", recs)
	}
	want := map[string]string{"FAKE_TEST_A": "a", "FAKE_TEST_EMPTY": ""}
	if got := recs[0].Env; len(got) != len(want) || got["FAKE_TEST_A"] != "a" || !has(got, "FAKE_TEST_EMPTY") {
		t.Errorf("env %q, want %q", got, want)
	}
}

func has(m map[string]string, k string) bool { _, ok := m[k]; return ok }

// TestReadsStdinWhenAsked: stdin is read to EOF and recorded, an empty one
// as "" (read, nothing in it), not as absent.
func TestReadsStdinWhenAsked(t *testing.T) {
	for _, in := range []string{"line one\nline two\x00\n", ""} {
		rec := filepath.Join(t.TempDir(), "record.jsonl")
		runFake(t, in, []string{fakeupstream.EnvRecord + "=" + rec, fakeupstream.EnvReadStdin + "=1"}, "chat")
		recs := records(t, rec)
		if len(recs) != 1 || recs[0].Stdin == nil || *recs[0].Stdin != in {
			t.Fatalf("records %+v, want stdin %q", recs, in)
		}
	}
}

// TestExitCode: EnvExit is the exit code; a knob that is not one is a usage
// error, and nothing is recorded then.
func TestExitCode(t *testing.T) {
	for _, tt := range []struct {
		value string
		code  int
	}{{"", 0}, {"0", 0}, {"1", 1}, {"7", 7}, {"255", 255}, {"256", fakeupstream.ExitUsage}, {"-1", fakeupstream.ExitUsage}, {"x", fakeupstream.ExitUsage}} {
		rec := filepath.Join(t.TempDir(), "record.jsonl")
		r := runFake(t, "", []string{fakeupstream.EnvRecord + "=" + rec, fakeupstream.EnvExit + "=" + tt.value}, "doctor")
		if r.code != tt.code {
			t.Errorf("%s=%q: exit %d, want %d (stderr %q)", fakeupstream.EnvExit, tt.value, r.code, tt.code, r.stderr)
		}
		if n := len(records(t, rec)); tt.code == fakeupstream.ExitUsage && n != 0 || tt.code != fakeupstream.ExitUsage && n != 1 {
			t.Errorf("%s=%q: %d records", fakeupstream.EnvExit, tt.value, n)
		}
	}
}

// TestVersion: `--version` and `-V` print upstream's version line alone,
// and are recorded.
func TestVersion(t *testing.T) {
	for _, flag := range []string{"--version", "-V"} {
		rec := filepath.Join(t.TempDir(), "record.jsonl")
		r := runFake(t, "", []string{fakeupstream.EnvRecord + "=" + rec}, flag)
		if r.stdout != fakeupstream.VersionLine+"\n" || r.stderr != "" || r.code != 0 {
			t.Errorf("%s: stdout %q stderr %q exit %d", flag, r.stdout, r.stderr, r.code)
		}
		if recs := records(t, rec); len(recs) != 1 || !slices.Equal(recs[0].Argv, []string{flag}) {
			t.Errorf("%s: records %+v", flag, recs)
		}
	}
	// Anywhere but first, it is an argument like any other.
	if r := runFake(t, "", nil, "chat", "--version"); r.stdout != fakeupstream.ArgvLine([]string{"chat", "--version"})+"\n" {
		t.Errorf("chat --version: stdout %q", r.stdout)
	}
}

// TestRunsAppend: every run adds its line; without EnvRecord nothing is
// written anywhere.
func TestRunsAppend(t *testing.T) {
	dir := t.TempDir()
	rec := filepath.Join(dir, "record.jsonl")
	for _, cmd := range []string{"setup", "model", "config"} {
		runFake(t, "", []string{fakeupstream.EnvRecord + "=" + rec}, cmd)
	}
	recs := records(t, rec)
	var got []string
	for _, r := range recs {
		got = append(got, strings.Join(r.Argv, " "))
	}
	if !slices.Equal(got, []string{"setup", "model", "config"}) {
		t.Errorf("records argv %q", got)
	}
	before, _ := os.ReadDir(dir)
	runFake(t, "", nil, "chat")
	after, _ := os.ReadDir(dir)
	if len(before) != len(after) {
		t.Errorf("a run without %s wrote a file", fakeupstream.EnvRecord)
	}
}

func TestRecordsOfMissingAndBrokenFiles(t *testing.T) {
	dir := t.TempDir()
	if recs, err := fakeupstream.Records(filepath.Join(dir, "absent")); recs != nil || err != nil {
		t.Errorf("absent file: %+v, %v; want nil, nil", recs, err)
	}
	broken := filepath.Join(dir, "broken")
	if err := os.WriteFile(broken, []byte("{\"argv\":[\"chat\"],\"pid\":1}\n\nnot json\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	recs, err := fakeupstream.Records(broken)
	if err == nil || !strings.Contains(err.Error(), "line 3") || len(recs) != 1 {
		t.Errorf("broken file: %+v, %v; want the first record and an error naming line 3", recs, err)
	}
}

// TestCommandLine: the value names the fake exactly as upstreamcli will
// split it, spaces in the path included.
func TestCommandLine(t *testing.T) {
	for _, path := range []string{fake(t), filepath.Join(t.TempDir(), "with space", "hermes")} {
		line, err := fakeupstream.CommandLine(path)
		if err != nil {
			t.Fatal(err)
		}
		if words, err := runner.SplitCommandLine(line); err != nil || !slices.Equal(words, []string{path}) {
			t.Errorf("CommandLine(%q) = %q, splits into %q, %v", path, line, words, err)
		}
	}
}

func TestUpstreamBuiltinsKeepGatewayFirst(t *testing.T) {
	if fakeupstream.UpstreamBuiltins[0] != "gateway" {
		t.Fatalf("UpstreamBuiltins[0] = %q", fakeupstream.UpstreamBuiltins[0])
	}
	seen := map[string]bool{}
	for _, name := range fakeupstream.UpstreamBuiltins {
		if seen[name] || name == "" || strings.HasPrefix(name, "-") {
			t.Errorf("bad or repeated name %q", name)
		}
		seen[name] = true
	}
}
