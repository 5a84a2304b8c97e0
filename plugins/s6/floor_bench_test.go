//go:build linux

package s6_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/nousresearch/hermes-service/internal/pluginfloor"
	"github.com/nousresearch/hermes-service/internal/testbin"
	"github.com/nousresearch/hermes-service/internal/wait"
	"github.com/nousresearch/hermes-service/shared/plugin"
	"github.com/nousresearch/hermes-service/shared/service"
)

// packaged is hermes as a package installs it: the binaries the release
// builds (release.BuildInto, through its dist command's -bin), with the
// plugins' .sha256 files beside them, and the pluginfloor pair built the
// same way. bare is the same binaries without the checksum files.
type packaged struct {
	dir, bare                                string
	hermes, bareHermes, floorHost, floorPlug string
}

// buildPackaged builds the release's binaries for this machine into a
// trusted folder (plugins in /tmp are refused).
func buildPackaged(b *testing.B) packaged {
	b.Helper()
	root, err := testbin.TrustedTemp("bench-packaged-")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.RemoveAll(root) })
	p := packaged{dir: filepath.Join(root, "packaged"), bare: filepath.Join(root, "bare")}
	repo, err := filepath.Abs("../..")
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command("go", "run", "./cmd/dist", "-root", repo, "-bin", p.dir, "-version", "bench",
		"-extra", pluginfloor.HostPackage+","+pluginfloor.PluginPackage)
	cmd.Dir = filepath.Join(repo, "release")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("building the release's binaries: %v\n%s", err, out)
	}
	if err := os.MkdirAll(p.bare, 0o755); err != nil {
		b.Fatal(err)
	}
	for _, n := range []string{"hermes", "hermes-service-s6"} {
		if err := os.Link(filepath.Join(p.dir, n), filepath.Join(p.bare, n)); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := os.Stat(filepath.Join(p.dir, "hermes-service-s6.sha256")); err != nil {
		b.Fatalf("the release's build has no checksum file beside the plugin: %v", err)
	}
	p.hermes, p.bareHermes = filepath.Join(p.dir, "hermes"), filepath.Join(p.bare, "hermes")
	p.floorHost, p.floorPlug = filepath.Join(p.dir, "floor-host"), filepath.Join(p.dir, "floor-plugin")
	// An installed plugin was not written a moment ago: hermes remembers
	// the digest of a file only once its last change is that old
	// (shared/plugin's racyWindow), so the files age first, as a package's
	// would have.
	plug := filepath.Join(p.dir, "hermes-service-s6")
	err = wait.Poll{What: "the plugin's last change to be 3 s old", Timeout: 10 * time.Second, Interval: 100 * time.Millisecond}.Until(
		context.Background(), func() (bool, error) {
			var st syscall.Stat_t
			if err := syscall.Stat(plug, &st); err != nil {
				return false, err
			}
			return time.Since(time.Unix(st.Ctim.Unix())) > 3*time.Second, nil
		})
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// statusEnv is tr's environment with the plugins looked for in dir only.
func statusEnv(tr *tree, dir string) []string {
	var env []string
	for _, kv := range tr.env() {
		if !strings.HasPrefix(kv, "HERMES_PLUGIN_PATH=") {
			env = append(env, kv)
		}
	}
	return append(env, "HERMES_PLUGIN_PATH="+dir)
}

// floorTarget is how much slower than the pluginfloor pair `gateway status`
// may be (issue 21).
const floorTarget = 1.15

// BenchmarkStatusFloor measures `hermes gateway status` of one running
// gateway on real s6, built and installed as the release packages it,
// against the pluginfloor pair (a minimal go-plugin gRPC host and plugin
// making one call), interleaved in one run so that all see the same
// machine: with the plugin's checksum file beside it, without it, and
// s6-svstat for scale. Targets: both at most floorTarget times the pair.
// It also reports the peak RSS of the status command's largest process and
// of the plugin alone (targets: 16 MiB each).
func BenchmarkStatusFloor(b *testing.B) {
	p := buildPackaged(b)
	tr := newTree(b)
	tr.register("work")
	tr.waitUp("work")
	withSum, bare := statusEnv(tr, p.dir), statusEnv(tr, p.bare)
	// Once, as after installing: the plugin is hashed and its digest kept.
	timeIt(b, withSum, p.hermes, "-p", "work", "gateway", "status")
	var floor, sum, noSum, svstat []time.Duration
	runs := []func(){
		func() { floor = append(floor, timeIt(b, withSum, p.floorHost, p.floorPlug)) },
		func() { sum = append(sum, timeIt(b, withSum, p.hermes, "-p", "work", "gateway", "status")) },
		func() { noSum = append(noSum, timeIt(b, bare, p.bareHermes, "-p", "work", "gateway", "status")) },
		func() { svstat = append(svstat, timeIt(b, withSum, "s6-svstat", tr.slot("work"))) },
	}
	for i := 0; b.Loop(); i++ {
		// Each round starts with the next command: what runs right after
		// another sees the caches it left, and no command always gets that.
		for j := range runs {
			runs[(i+j)%len(runs)]()
		}
	}
	b.StopTimer()
	f := median(floor)
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(ms(f), "floor-ms")
	b.ReportMetric(ms(median(sum)), "status-ms")
	b.ReportMetric(ms(median(noSum)), "status-nosum-ms")
	b.ReportMetric(ms(median(svstat)), "svstat-ms")
	b.ReportMetric(float64(median(sum))/float64(f), "status/floor")
	b.ReportMetric(float64(median(noSum))/float64(f), "status-nosum/floor")
	b.ReportMetric(float64(median(svstat))/float64(f), "svstat/floor")
	treeRSS := peakRSSKiB(b, withSum, p.hermes, "-p", "work", "gateway", "status") / 1024
	plugRSS := pluginRSSKiB(b, withSum, p.dir) / 1024
	b.ReportMetric(treeRSS, "status-tree-rss-MiB")
	b.ReportMetric(peakRSSKiB(b, withSum, p.floorHost, p.floorPlug)/1024, "floor-tree-rss-MiB")
	b.ReportMetric(plugRSS, "plugin-rss-MiB")
	report("gateway status / pluginfloor pair, checksum file present", float64(median(sum))/float64(f), floorTarget, "x")
	report("gateway status / pluginfloor pair, no checksum file", float64(median(noSum))/float64(f), floorTarget, "x")
	report("peak RSS of the status command (its largest process: host or plugin)", treeRSS, rssTarget, " MiB")
	report("peak RSS of the plugin", plugRSS, rssTarget, " MiB")
}

// rssTarget is the peak RSS the host and the plugin may each reach, in MiB.
const rssTarget = 16

// report prints one of make bench's lines: what, the measure, its target
// (at most) and whether it is met. Benchmarks report; they never fail on a
// number (a shared machine is noisy).
func report(what string, got, atMost float64, unit string) {
	verdict := "met"
	if got > atMost {
		verdict = "MISSED"
	}
	fmt.Printf("bench: %-70s %7.2f%s (target at most %g%s): %s\n", what, got, unit, atMost, unit, verdict)
}

// BenchmarkStatusAll measures `hermes gateway status --all` with 1,000 and
// 5,000 registered slots, each with a real status file (no s6-svscan: the
// work is hermes's own). Targets: 25 ms and 80 ms.
func BenchmarkStatusAll(b *testing.B) {
	p := buildPackaged(b)
	status := realStatusFile(b)
	for _, n := range []int{1000, 5000} {
		tr, _ := slotsWithStatus(b, n, status)
		env := statusEnv(tr, p.dir)
		b.Run(fmt.Sprintf("slots=%d", n), func(b *testing.B) {
			var all, floor []time.Duration
			for i := 0; b.Loop(); i++ {
				if i%2 == 0 {
					floor = append(floor, timeIt(b, env, p.floorHost, p.floorPlug))
				}
				all = append(all, timeIt(b, env, p.hermes, "gateway", "status", "--all"))
				if i%2 == 1 {
					floor = append(floor, timeIt(b, env, p.floorHost, p.floorPlug))
				}
			}
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(ms(median(all)), "all-ms")
			b.ReportMetric(float64(median(all))/float64(median(floor)), "all/floor")
			report(fmt.Sprintf("gateway status --all, %d slots (%.2fx the pluginfloor pair)", n, float64(median(all))/float64(median(floor))),
				ms(median(all)), allTargets[n], " ms")
		})
	}
}

// allTargets are status --all's targets in milliseconds, by slot count.
var allTargets = map[int]float64{1000: 25, 5000: 80}

// realStatusFile is the supervise/status s6 wrote for a slot it runs.
func realStatusFile(b *testing.B) []byte {
	one := newTree(b)
	one.register("work", "--no-start")
	var data []byte
	one.waitFor("a status file", func() bool {
		var err error
		data, err = os.ReadFile(filepath.Join(one.slot("work"), "supervise", "status"))
		return err == nil && len(data) > 0
	})
	return data
}

// slotsWithStatus makes a home of n profiles and a scandir whose slots
// hold status (as s6-supervise would have written it) and nothing s6 runs.
func slotsWithStatus(b *testing.B, n int, status []byte) (*tree, []string) {
	tr, env := thousand(b, n)
	names := []string{"default"}
	for i := range n {
		names = append(names, fmt.Sprintf("p%04d", i))
	}
	for _, name := range names {
		sup := filepath.Join(tr.slot(name), "supervise")
		if err := os.MkdirAll(sup, 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(sup, "status"), status, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return tr, env
}

// peakRSSKiB runs argv under GNU time: the peak RSS of the largest process
// of its tree (a reaped child's high-water mark folds into its parent's).
func peakRSSKiB(b *testing.B, env []string, argv ...string) float64 {
	out := filepath.Join(b.TempDir(), "rss")
	cmd := exec.Command("/usr/bin/time", append([]string{"-f", "%M", "-o", out}, argv...)...)
	cmd.Env = env
	_ = cmd.Run()
	data, err := os.ReadFile(out)
	if err != nil {
		b.Fatalf("GNU time (Debian package time; make bench installs it): %v", err)
	}
	lines := strings.Fields(string(data))
	var kib float64
	if len(lines) == 0 {
		b.Fatalf("GNU time said %q", data)
	}
	if _, err := fmt.Sscan(lines[len(lines)-1], &kib); err != nil {
		b.Fatalf("GNU time said %q", data)
	}
	return kib
}

// pluginRSSKiB is the plugin's own peak RSS over a launch and a status
// call, read from /proc before this process, as the host, ends it.
func pluginRSSKiB(b *testing.B, env []string, dir string) float64 {
	c, err := plugin.Launch(context.Background(), plugin.LaunchConfig{Path: filepath.Join(dir, "hermes-service-s6"),
		Env: env, Logger: hclog.NewNullLogger(), Kind: service.KindS6})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Status(context.Background(), "work"); err != nil {
		b.Fatal(err)
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.Pid()))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kib float64
			if _, err := fmt.Sscan(strings.TrimSuffix(strings.TrimSpace(v), " kB"), &kib); err == nil {
				return kib
			}
		}
	}
	b.Fatalf("no VmHWM in the plugin's /proc status:\n%s", data)
	return 0
}
