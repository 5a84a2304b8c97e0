package fakeupstream_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nousresearch/hermes-service/internal/fakeupstream"
	"github.com/nousresearch/hermes-service/internal/testbin"
	"github.com/nousresearch/hermes-service/shared/gateway"
)

// The benchmark's knobs.
const (
	// envBenchHermes is the hermes binary to measure, an absolute path
	// (go test runs in the package's folder).
	envBenchHermes = "HERMES_BENCH_HERMES"
	// envBenchBuild=1 builds ./cmd/hermes of this checkout instead.
	envBenchBuild = "HERMES_BENCH_BUILD"
)

const hermesPackage = "github.com/nousresearch/hermes-service/cmd/hermes"

// benchArgs stand for a command hermes does not own: upstream's `chat
// --help`, which the fake answers at once.
var benchArgs = []string{"chat", "--help"}

// BenchmarkPassThrough measures what the pass-through costs a user: the wall
// time of starting a command and waiting for its end (fork, exec, run,
// wait), once with the fake upstream CLI started directly and once through
// hermes, which finds it by HERMES_UPSTREAM_CLI and hands it the command.
// The two alternate within one loop, so both see the same machine; each
// iteration runs both, in turn order swapped every other time.
//
// Metrics (the default ns/op, the sum of both, is suppressed):
//
//	direct-ns/op       the fake alone
//	passthrough-ns/op  hermes, then the fake
//	overhead-ms/op     the difference, in milliseconds
//
// Run it with a hermes that has the pass-through:
//
//	HERMES_BENCH_HERMES=/abs/path/to/hermes go test -run '^$' -bench PassThrough ./internal/fakeupstream/
//	HERMES_BENCH_BUILD=1 go test -run '^$' -bench PassThrough ./internal/fakeupstream/
//
// Before it measures, it checks that hermes really passes the command
// through (argv, stdout, exit code): a hermes that does not fails the
// benchmark rather than timing something else.
func BenchmarkPassThrough(b *testing.B) {
	hermes := hermesUnderTest(b)
	upstream := fake(b)
	line, err := fakeupstream.CommandLine(upstream)
	if err != nil {
		b.Fatal(err)
	}
	// The same environment for both: upstream named for hermes, a home of
	// its own so nothing touches the user's, none of the fake's knobs.
	env := cleanEnv(gateway.EnvUpstreamCLI+"="+line, gateway.EnvHome+"="+b.TempDir())
	checkPassThrough(b, hermes, env)

	// Output to the null device itself, not a pipe: no copying goroutines
	// in the measurement.
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer devnull.Close()
	spawn := func(program string) time.Duration {
		cmd := exec.Command(program, benchArgs...)
		cmd.Env, cmd.Stdout, cmd.Stderr = env, devnull, devnull
		start := time.Now()
		err := cmd.Run()
		took := time.Since(start)
		if err != nil {
			b.Fatalf("%s %q: %v", program, benchArgs, err)
		}
		return took
	}
	spawn(upstream) // warm the page cache for both
	spawn(hermes)

	var direct, through time.Duration
	for i := 0; b.Loop(); i++ {
		if i%2 == 0 {
			direct += spawn(upstream)
			through += spawn(hermes)
		} else {
			through += spawn(hermes)
			direct += spawn(upstream)
		}
	}
	n := float64(b.N)
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(float64(direct.Nanoseconds())/n, "direct-ns/op")
	b.ReportMetric(float64(through.Nanoseconds())/n, "passthrough-ns/op")
	b.ReportMetric(float64((through-direct).Nanoseconds())/n/1e6, "overhead-ms/op")
}

// hermesUnderTest is the hermes binary to measure: $HERMES_BENCH_HERMES, or
// ./cmd/hermes built by testbin with HERMES_BENCH_BUILD=1; neither skips.
func hermesUnderTest(b *testing.B) string {
	if path := os.Getenv(envBenchHermes); path != "" {
		if !filepath.IsAbs(path) {
			b.Fatalf("%s=%q: give an absolute path (go test runs in the package's folder)", envBenchHermes, path)
		}
		if info, err := os.Stat(path); err != nil || info.IsDir() {
			b.Fatalf("%s=%q is not a program: %v", envBenchHermes, path, err)
		}
		return path
	}
	if os.Getenv(envBenchBuild) == "1" {
		path, err := testbin.Build(b.TempDir(), hermesPackage)
		if err != nil {
			b.Fatalf("build hermes: %v", err)
		}
		return path
	}
	b.Skipf("no hermes to measure: set %s to the absolute path of a hermes with the pass-through, "+
		"or %s=1 to build ./cmd/hermes of this checkout", envBenchHermes, envBenchBuild)
	return ""
}

// checkPassThrough runs `hermes <benchArgs>` once with a record file and
// fails unless the fake got exactly those arguments and hermes gave back its
// stdout and exit code.
func checkPassThrough(b *testing.B, hermes string, env []string) {
	rec := filepath.Join(b.TempDir(), "record.jsonl")
	cmd := exec.Command(hermes, benchArgs...)
	cmd.Env = append(slices.Clip(env), fakeupstream.EnvRecord+"="+rec)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		b.Fatalf("run %s: %v", hermes, err)
	}
	recs, recErr := fakeupstream.Records(rec)
	want := fakeupstream.ArgvLine(benchArgs)
	if err != nil || recErr != nil || len(recs) != 1 || !slices.Equal(recs[0].Argv, benchArgs) ||
		strings.TrimSpace(stdout.String()) != want {
		b.Fatalf("%s %q did not pass the command through to the fake upstream CLI: "+
			"exit %v, stdout %q (want %q), stderr %q, fake's records %+v %v; does this hermes have the pass-through?",
			hermes, benchArgs, err, stdout.String(), want, stderr.String(), recs, recErr)
	}
	if recs[0].Pid == cmd.Process.Pid {
		b.Logf("hermes exec'd upstream's CLI (same pid %d)", recs[0].Pid)
	} else {
		b.Logf("hermes ran upstream's CLI as a child (pid %d under hermes %d)", recs[0].Pid, cmd.Process.Pid)
	}
}
