//go:build linux

package containertier

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nousresearch/hermes-service/internal/wait"
	"github.com/nousresearch/hermes-service/shared/gateway"
)

// contInitName is how the cont-init script names itself in its messages.
const contInitName = "02-reconcile-profiles"

// TestHermesDetectsS6 is hermes in the container with nothing to say which
// backend: PID 1 is s6-svscan and /run/s6/basedir a folder, so it is s6.
func TestHermesDetectsS6(t *testing.T) {
	c := startContainer(t, newVolume(t))
	if r := c.exec("cat", "/proc/1/comm"); r.code != 0 || strings.TrimSpace(r.stdout) != "s6-svscan" {
		t.Fatalf("/proc/1/comm in the container: %v", r)
	}
	if r := c.exec("env"); strings.Contains(r.stdout, gateway.EnvServiceBackend+"=") {
		t.Fatalf("the container's environment names a backend; detection is what is tested:\n%s", r.stdout)
	}
	r := c.hermes("gateway", "doctor")
	if r.code != 0 || !strings.Contains(r.stdout, `service manager: s6: /proc/1/comm is "s6-svscan", /run/s6/basedir is a folder`) {
		t.Fatalf("doctor: %v", r)
	}
	if r := c.contInit(); r.code != 0 || !strings.Contains(r.stdout, "profile=default prior_state=None action=registered") {
		t.Fatalf("cont-init on an empty volume: %v", r)
	}
}

// TestContInitFailsLoudly: a cont-init that cannot do its work says so on
// stderr and exits non-zero, so that s6-overlay reports it (or, with
// S6_BEHAVIOUR_IF_STAGE2_FAILS=2, stops the container).
func TestContInitFailsLoudly(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  []string
		// plant prepares the volume.
		plant func(v *volume)
		want  string
	}{
		{
			name: "reconcile fails: a link planted where the audit log's folder goes",
			plant: func(v *volume) {
				if err := os.Symlink("/tmp", v.path("logs")); err != nil {
					t.Fatal(err)
				}
				if err := os.Lchown(v.path("logs"), layout.uid, layout.uid); err != nil {
					t.Fatal(err)
				}
			},
			want: contInitName + ": hermes gateway reconcile failed (exit 1)",
		},
		{
			name: "the gateways' user does not exist",
			env:  []string{gateway.EnvS6User + "=nobody-in-this-image"},
			want: contInitName + ": could not hand /run/service",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := newVolume(t)
			if tc.plant != nil {
				tc.plant(v)
			}
			c := startContainer(t, v, tc.env...)
			r := c.contInit()
			if r.code == 0 || !strings.Contains(r.stderr, tc.want) {
				t.Fatalf("cont-init: want a failure saying %q, got %v", tc.want, r)
			}
		})
	}
}

// TestReconcileOnALiveTreeRestartsNothing: hermes gateway reconcile run
// again in a running container (by hand, or a second cont-init) leaves
// every running gateway as it is.
func TestReconcileOnALiveTreeRestartsNothing(t *testing.T) {
	v := newVolume(t)
	profiles := tierProfiles()[:4] // default, p01 (--env), p02, p03 (plain)
	for _, p := range profiles[1:] {
		v.addProfile(p.name)
	}
	c := startContainer(t, v, noStorm)
	if r := c.contInit(); r.code != 0 {
		t.Fatalf("cont-init: %v", r)
	}
	for _, p := range profiles {
		c.mustHermes("-p", p.name, "gateway", "unregister")
		c.mustHermes(p.registerArgs()...)
	}
	before := map[string]int{}
	err := wait.For(context.Background(), "every gateway up", upWithin, func() bool {
		sts := c.statuses()
		for _, p := range profiles {
			if sts[p.name].PID == nil {
				return false
			}
			before[p.name] = *sts[p.name].PID
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	c.mustHermes("gateway", "reconcile")
	// A restart would show within moments: a slot brought down and up
	// again, or a gateway replaced. Nothing may change for a while.
	var changed []string
	err = wait.Poll{What: "a gateway restarted by reconcile", Timeout: 3 * time.Second, Interval: 100 * time.Millisecond}.Until(
		context.Background(), func() (bool, error) {
			changed = changed[:0]
			sts := c.statuses()
			for _, p := range profiles {
				if s := sts[p.name]; s.PID == nil || *s.PID != before[p.name] {
					changed = append(changed, p.name)
				}
			}
			return len(changed) > 0, nil
		})
	switch {
	case errors.Is(err, wait.ErrTimeout):
	case err != nil:
		t.Fatal(err)
	default:
		t.Errorf("reconcile on a live tree restarted the gateways of %v (pids before: %v)\nconsole:\n%s", changed, before, c.console)
	}
	starts := c.consoleStarts()
	for _, p := range profiles {
		if starts[p.home()] != 1 {
			t.Errorf("%s's gateway started %d times on the console, want 1", p.name, starts[p.home()])
		}
	}
}
