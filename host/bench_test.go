package host_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nousresearch/hermes-service/internal/testbin"
)

// measure runs argv once and returns its wall time.
func measure(b *testing.B, env []string, argv ...string) time.Duration {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	if err != nil {
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 3 { // 3: status of a stopped gateway
			b.Fatalf("%v: %v", argv, err)
		}
	}
	return took
}

// peakRSS runs argv under GNU time and returns the peak RSS in KiB of the
// largest process in its tree (the plugin included), or -1 without GNU time.
// Not measured from this process: a child forked from the benchmark starts
// with the benchmark's own high-water mark, which would drown the number.
func peakRSS(b *testing.B, env []string, argv ...string) float64 {
	const gnuTime = "/usr/bin/time"
	if _, err := os.Stat(gnuTime); err != nil {
		b.Logf("no %s (Debian package time): peak RSS not measured", gnuTime)
		return -1
	}
	out := filepath.Join(b.TempDir(), "rss")
	cmd := exec.Command(gnuTime, append([]string{"-f", "%M", "-o", out}, argv...)...)
	cmd.Env = env
	_ = cmd.Run()
	data, err := os.ReadFile(out)
	if err != nil {
		b.Fatal(err)
	}
	var kib float64
	if _, err := fmt.Sscan(lastLine(string(data)), &kib); err != nil {
		b.Fatalf("GNU time said %q", data)
	}
	return kib
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// BenchmarkCLI times `hermes plugin list` and `hermes gateway status`
// against the test backend, interleaved with a Go hello-world so that all
// three see the same machine load, and reports medians, peak RSS and the
// ratios to hello-world. The target for status is a median of 25 ms.
func BenchmarkCLI(b *testing.B) {
	if filepath.Separator != '/' {
		b.Skip("measures Unix processes")
	}
	dir, err := testbin.TrustedTemp("bench-") // plugin trust refuses /tmp
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.RemoveAll(dir) })
	hermes := filepath.Join(dir, "hermes")
	hello := filepath.Join(dir, "hello")
	build := func(out, workdir string, args ...string) {
		cmd := exec.Command("go", append([]string{"build", "-trimpath", "-o", out}, args...)...)
		cmd.Dir = workdir
		if msg, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("build %s: %v\n%s", out, err, msg)
		}
	}
	src := filepath.Join(dir, "hello.go")
	if err := os.WriteFile(src, []byte("package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"hello\") }\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	build(hello, dir, src)
	build(hermes, ".", "../cmd/hermes")
	plugins := filepath.Join(dir, "plugins")
	if err := os.MkdirAll(plugins, 0o755); err != nil {
		b.Fatal(err)
	}
	data, err := os.ReadFile(builtPluginB(b))
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(plugins, "hermes-service-test"), data, 0o755); err != nil {
		b.Fatal(err)
	}
	env := append(os.Environ(), "HERMES_PLUGIN_PATH="+plugins, "HERMES_SERVICE_BACKEND=test",
		"HERMES_HOME="+filepath.Join(dir, "home"), "HERMES_TESTBACKEND_DIR="+dir)

	var tHello, tList, tStatus []time.Duration
	for b.Loop() {
		tHello = append(tHello, measure(b, env, hello))
		tList = append(tList, measure(b, env, hermes, "gateway", "plugins"))
		tStatus = append(tStatus, measure(b, env, hermes, "gateway", "status"))
	}
	b.StopTimer()
	rHello := peakRSS(b, env, hello)
	rList := peakRSS(b, env, hermes, "gateway", "plugins")
	rStatus := peakRSS(b, env, hermes, "gateway", "status")
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	mh, ml, ms2 := median(tHello), median(tList), median(tStatus)
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(ms(mh), "hello-ms")
	b.ReportMetric(ms(ml), "list-ms")
	b.ReportMetric(ms(ms2), "status-ms")
	b.ReportMetric(float64(ml)/float64(mh), "list/hello")
	b.ReportMetric(float64(ms2)/float64(mh), "status/hello")
	b.ReportMetric(rHello, "hello-rss-KiB")
	b.ReportMetric(rList, "list-rss-KiB")
	b.ReportMetric(rStatus, "status-rss-KiB")
}
