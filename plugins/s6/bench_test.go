//go:build linux

package s6_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/nousresearch/hermes-service/shared/plugin"
)

func timeIt(b *testing.B, env []string, argv ...string) time.Duration {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	if ee, ok := err.(*exec.ExitError); err != nil && (!ok || ee.ExitCode() != 3) {
		b.Fatalf("%v: %v", argv, err)
	}
	return took
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// BenchmarkStatusVsSvstat times `hermes gateway status` of a running
// gateway on real s6 beside `s6-svstat` of the same slot, interleaved.
// Target: status at most 25 ms median.
func BenchmarkStatusVsSvstat(b *testing.B) {
	tr := newTree(b)
	tr.register("work")
	tr.waitUp("work")
	env := tr.env()
	var hermes, svstat []time.Duration
	for b.Loop() {
		hermes = append(hermes, timeIt(b, env, bins.hermes, "-p", "work", "gateway", "status"))
		svstat = append(svstat, timeIt(b, env, "s6-svstat", tr.slot("work")))
	}
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(ms(median(hermes)), "status-ms")
	b.ReportMetric(ms(median(svstat)), "svstat-ms")
	b.ReportMetric(float64(median(hermes))/float64(median(svstat)), "status/svstat")
}

// thousand makes a home with n profiles (SOUL.md each) and registers them
// all through reconcile, then gives every slot a real status file.
func thousand(b *testing.B, n int) (*tree, []string) {
	tr := &tree{t: b, scandir: filepath.Join(b.TempDir(), "service"), home: filepath.Join(b.TempDir(), "home")}
	if err := os.MkdirAll(tr.scandir, 0o755); err != nil {
		b.Fatal(err)
	}
	for i := range n {
		dir := filepath.Join(tr.home, "profiles", fmt.Sprintf("p%04d", i))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "SOUL.md"), nil, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return tr, tr.env()
}

// BenchmarkThousandSlots measures, with 1,000 registered slots and no
// s6-svscan (the work is hermes's own): reconcile of 1,000 profiles (target
// at most 2 s), `gateway list`, and one Statuses call for all of them
// through a freshly launched plugin (target at most 150 ms), beside serial
// s6-svstat over every slot for scale.
func BenchmarkThousandSlots(b *testing.B) {
	tr, env := thousand(b, 1000)
	status := filepath.Join(b.TempDir(), "status")
	{ // one real status file, copied into every slot
		one := newTree(b)
		one.register("work", "--no-start")
		one.waitFor("a status file", func() bool {
			_, err := os.Stat(filepath.Join(one.slot("work"), "supervise", "status"))
			return err == nil
		})
		data, _ := os.ReadFile(filepath.Join(one.slot("work"), "supervise", "status"))
		_ = os.WriteFile(status, data, 0o644)
	}
	var reconcile, list, statuses []time.Duration
	for b.Loop() {
		reconcile = append(reconcile, timeIt(b, env, bins.hermes, "gateway", "reconcile"))
		list = append(list, timeIt(b, env, bins.hermes, "gateway", "list"))
		b.StopTimer()
		data, _ := os.ReadFile(status)
		entries, _ := filepath.Glob(filepath.Join(tr.scandir, "gateway-*"))
		for _, e := range entries {
			_ = os.WriteFile(filepath.Join(e, "supervise", "status"), data, 0o644)
		}
		b.StartTimer()
		start := time.Now()
		c, err := plugin.Launch(context.Background(), plugin.LaunchConfig{Path: bins.plugin, Env: env, Logger: hclog.NewNullLogger()})
		if err != nil {
			b.Fatal(err)
		}
		sts, err := c.Statuses(context.Background(), nil)
		c.Close()
		statuses = append(statuses, time.Since(start))
		if err != nil || len(sts) != 1001 {
			b.Fatalf("%d statuses, %v", len(sts), err)
		}
	}
	b.StopTimer()
	start := time.Now()
	entries, _ := filepath.Glob(filepath.Join(tr.scandir, "gateway-*"))
	for _, e := range entries {
		_ = exec.Command("s6-svstat", "-o", "up", e).Run()
	}
	serial := time.Since(start)
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(ms(median(reconcile)), "reconcile1000-ms")
	b.ReportMetric(ms(median(list)), "list1000-ms")
	b.ReportMetric(ms(median(statuses)), "statusall1000-ms")
	b.ReportMetric(ms(serial), "serial-svstat1000-ms")
	b.ReportMetric(float64(serial)/float64(median(statuses)), "serial/statusall")
}
