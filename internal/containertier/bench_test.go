//go:build linux

package containertier

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nousresearch/hermes-service/internal/registration"
	"github.com/nousresearch/hermes-service/internal/wait"
	"github.com/nousresearch/hermes-service/shared/gateway"
)

// benchProfiles is how many profiles the reconcile benchmark's volume
// holds: the default one and benchProfiles-1 under profiles/.
const benchProfiles = 1000

// BenchmarkReconcileThousand times `hermes gateway reconcile` of 1,000
// profiles registered by hermes (their settings on the volume) inside a
// container, run as the cont-init step runs it (root,
// through the exec path): fresh, on the empty /run/service of a new
// container, then unchanged, run again once s6-svscan has taken the
// slots. Beside them, in the same container, `hermes gateway version`: the
// floor of any hermes command. Targets: fresh at most 300 ms, unchanged at
// most 100 ms. The times are taken inside the container (date before and
// after), so docker exec's own cost is not in them.
func BenchmarkReconcileThousand(b *testing.B) {
	v := newVolume(b)
	for i := range benchProfiles {
		name := fmt.Sprintf("p%04d", i)
		if i == 0 {
			name = "default"
		} else {
			v.addProfile(name)
		}
		// As hermes gateway register leaves them: upstream's gateway under
		// the hermes protocol, its settings on the volume.
		set := registration.Settings{Protocol: gateway.ProtocolHermes, Program: []string{bins.upstream, "-p", name, "gateway", "run"}}
		if _, err := registration.Save(v.path(profileDir(name)), set); err != nil {
			b.Fatal(err)
		}
	}
	var fresh, unchanged, floor []time.Duration
	for b.Loop() {
		c := startContainer(b, v)
		fresh = append(fresh, c.timed("gateway", "reconcile"))
		if slots, _ := filepath.Glob(filepath.Join(c.inside(layout.scanDir), "gateway-*")); len(slots) != benchProfiles {
			b.Fatalf("reconcile made %d slots, want %d", len(slots), benchProfiles)
		}
		c.settled()
		unchanged = append(unchanged, c.timed("gateway", "reconcile"))
		floor = append(floor, c.timed("gateway", "version"))
		c.stop("kill")
	}
	b.Logf("every run: fresh %v, unchanged %v, version %v", fresh, unchanged, floor)
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(ms(median(fresh)), "fresh-ms")
	b.ReportMetric(ms(median(unchanged)), "unchanged-ms")
	b.ReportMetric(ms(median(floor)), "version-ms")
	b.ReportMetric(float64(median(fresh).Microseconds())/benchProfiles, "fresh-µs/profile")
	b.ReportMetric(float64(median(unchanged).Microseconds())/benchProfiles, "unchanged-µs/profile")
}

// timed runs hermes ARGS inside the container and returns how long it took
// there; a failure fails the benchmark.
func (c *container) timed(args ...string) time.Duration {
	c.t.Helper()
	r := c.exec(append([]string{"/bin/sh", "-c",
		`s=$(date +%s%N); "$0" "$@" >/dev/null 2>&1 || exit $?; e=$(date +%s%N); echo $((e - s))`, bins.hermes}, args...)...)
	ns, err := strconv.ParseInt(strings.TrimSpace(r.stdout), 10, 64)
	if r.code != 0 || err != nil {
		c.t.Fatalf("hermes %s: %v", strings.Join(args, " "), r)
	}
	return time.Duration(ns)
}

// settled waits until s6-svscan has started what it will for the slots:
// the container's process count holds still.
func (c *container) settled() {
	c.t.Helper()
	last, same := -1, 0
	err := wait.Poll{What: "s6-svscan to start the slots' supervisors", Timeout: upWithin, Interval: 200 * time.Millisecond}.Until(
		context.Background(), func() (bool, error) {
			n := len(c.processes())
			if n == last {
				same++
			} else {
				last, same = n, 0
			}
			return same >= 3, nil
		})
	if err != nil {
		c.t.Fatal(err)
	}
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
