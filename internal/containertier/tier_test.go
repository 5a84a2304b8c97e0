//go:build linux

package containertier

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nousresearch/hermes-service/internal/boot"
	"github.com/nousresearch/hermes-service/internal/registration"
	"github.com/nousresearch/hermes-service/internal/upstreamgateway"
	"github.com/nousresearch/hermes-service/internal/wait"
	"github.com/nousresearch/hermes-service/shared/gateway"
)

// The docker stop forms (scripts/container.sh stop --form).
const (
	formTerm = "term" // SIGTERM to a plain s6-svscan
	formHalt = "halt" // s6-overlay v3's halt
	formKill = "kill" // SIGKILL: docker kill, the OOM killer
)

// restartsPerForm is how many restarts the tier makes in each form.
const restartsPerForm = 3

// profileCount is how many profiles the volume holds, default included.
const profileCount = 20

// childPIDKey is the field of gateway_state.json where a plain runner
// (internal/runner) records its gateway's pid.
const childPIDKey = "child_pid"

// noStorm turns off the stand-in's respawn-storm breaker (upstream's: more
// than 5 starts of one home in 120 s hold the next back): the tier packs
// ten boots of a profile into a minute, which a real volume sees over days.
var noStorm = upstreamgateway.EnvMaxStarts + "=0"

// tierProfile is one profile of the volume and what the operator did with
// it through docker exec.
type tierProfile struct {
	name string
	// plain runs the test gateway under --protocol plain; else upstream's
	// stand-in under --protocol hermes.
	plain bool
	// env is given to register as --env KEY=VALUE.
	env map[string]string
	// stopped: the operator stopped it after registering it.
	stopped bool
}

// tierProfiles are the volume's profiles: mostly upstream's gateway, every
// fifth plain, every third with an environment of its own (quotes, $ and
// spaces in it), three stopped by the operator (one of them plain).
func tierProfiles() []tierProfile {
	out := make([]tierProfile, profileCount)
	for i := range out {
		p := tierProfile{name: "default", plain: i%5 == 3, stopped: i == 5 || i == 12 || i == 18}
		if i > 0 {
			p.name = fmt.Sprintf("p%02d", i)
		}
		if i%3 == 1 {
			p.env = map[string]string{"TIER_TOKEN": "token of " + p.name, "TIER_QUOTED": `it's "quoted" $HOME`}
		}
		out[i] = p
	}
	return out
}

// home is the profile's home inside the container.
func (p tierProfile) home() string { return filepath.Join(layout.volumeAt, profileDir(p.name)) }

// registerArgs is the operator's hermes register line for the profile.
func (p tierProfile) registerArgs() []string {
	args := []string{"-p", p.name, "gateway", "register"}
	if p.plain {
		args = append(args, "--protocol", "plain", "--gateway-command", bins.testGateway+" "+p.name)
	} else {
		command := bins.upstream
		if p.name != "default" {
			command += " -p " + p.name
		}
		args = append(args, "--protocol", "hermes", "--gateway-command", command+" gateway run")
	}
	for _, k := range slices.Sorted(maps.Keys(p.env)) {
		args = append(args, "--env", k+"="+p.env[k])
	}
	return args
}

// tier is the restart scenario's state across containers on one volume.
type tier struct {
	// t is the (sub)test now; top the whole scenario's, which owns the
	// containers.
	t, top   *testing.T
	vol      *volume
	profiles []tierProfile
	c        *container
	// runs are the slots' run scripts and regs the registration files, as
	// the operator's register wrote them: every boot must write the same.
	runs, regs map[string]string
	// audited is how many audit lines earlier boots wrote.
	audited int
	// starts is how many times each profile's gateway was started in the
	// current container: its console must show that many, no more (a
	// crash loop), no fewer.
	starts map[string]int
	// boots counts the containers.
	boots int
}

// TestContainerRestarts is issue 17's container life: 20 profiles
// registered through docker exec as root, then three restarts in each
// docker stop form, each a new container on the same volume with the
// cont-init step; the running gateways come back as registered, the
// operator's stops stay, the audit log says so, nothing in the volume is
// root's, and the console shows no crash loop.
func TestContainerRestarts(t *testing.T) {
	tr := &tier{t: t, top: t, vol: newVolume(t), profiles: tierProfiles(), runs: map[string]string{}, regs: map[string]string{}}
	for _, p := range tr.profiles[1:] {
		tr.vol.addProfile(p.name)
	}

	// The first start finds the profiles on the volume, registers each
	// down (nothing recorded yet) and the operator then registers them.
	tr.boot(true)
	for _, p := range tr.profiles {
		// reconcile registered it with the defaults: the operator's own
		// registration replaces that one.
		tr.c.mustHermes("-p", p.name, "gateway", "unregister")
		tr.c.mustHermes(p.registerArgs()...)
		tr.starts[p.name]++
	}
	for _, p := range tr.profiles {
		if p.stopped {
			tr.c.mustHermes("-p", p.name, "gateway", "stop")
		}
	}
	tr.waitSettled()
	for _, p := range tr.profiles {
		tr.runs[p.name] = tr.runScript(p)
		tr.regs[p.name] = tr.registrationOf(p)
	}
	tr.checkRunning()
	tr.vol.ownedByService()

	// Each restart builds on the one before: after one that could not
	// finish (a container that did not come up) the rest cannot run.
	n := 0
	for _, form := range []string{formTerm, formHalt, formKill} {
		for i := 1; i <= restartsPerForm; i++ {
			finished := false
			t.Run(fmt.Sprintf("%s-%d", form, i), func(t *testing.T) {
				tr.t, tr.c.t = t, t
				tr.operate(n)
				n++
				tr.restart(form)
				tr.checkRunning()
				tr.vol.ownedByService()
				finished = true
			})
			tr.t = t
			tr.c.t = t
			if !finished {
				t.Fatalf("stopped after %s-%d", form, i)
			}
		}
	}
}

// boot starts a container on the volume and runs its cont-init step, which
// must succeed and write one audit line per profile.
func (tr *tier) boot(first bool) {
	tr.t.Helper()
	tr.c = startContainer(tr.top, tr.vol, noStorm)
	tr.c.t = tr.t
	tr.boots++
	tr.starts = map[string]int{}
	begin := time.Now()
	if r := tr.c.contInit(); r.code != 0 {
		tr.t.Fatalf("cont-init (boot %d): %v\nconsole:\n%s", tr.boots, r, tr.c.console)
	}
	tr.t.Logf("boot %d: cont-init took %s", tr.boots, time.Since(begin).Round(time.Millisecond))
	tr.checkAudit(first)
	for _, p := range tr.profiles {
		if !first && !p.stopped {
			tr.starts[p.name]++
		}
	}
}

// restart is docker stop in form, then docker start: a new container on the
// same volume.
func (tr *tier) restart(form string) {
	tr.t.Helper()
	begin := time.Now()
	code := tr.c.stop(form)
	if form != formKill && code != 0 {
		// A plain s6-svscan exits 0 at a SIGTERM, and so does the halt's
		// s6-svscanctl -t; a SIGKILL gives whatever the runner makes of it.
		tr.t.Errorf("PID 1 exited %d after a %s stop, want 0\nconsole:\n%s", code, form, tr.c.console)
	}
	tr.checkConsole()
	tr.vol.ownedByService()
	tr.boot(false)
	tr.waitSettled()
	tr.t.Logf("restart (%s): %s", form, time.Since(begin).Round(time.Millisecond))
}

// operate is what an operator types through docker exec as root between two
// restarts: status of every profile, doctor, and a stop and start of one
// running profile (a different one each time).
func (tr *tier) operate(n int) {
	tr.t.Helper()
	if r := tr.c.hermes("gateway", "status", "--all"); r.code != 0 || !strings.Contains(r.stdout, "p19") {
		tr.t.Errorf("status --all: %v", r)
	}
	if r := tr.c.hermes("gateway", "doctor"); r.code != 0 || !strings.Contains(r.stdout, `s6: /proc/1/comm is "s6-svscan"`) {
		tr.t.Errorf("doctor in the container, without --backend: %v", r)
	}
	var running []tierProfile
	for _, p := range tr.profiles {
		if !p.stopped {
			running = append(running, p)
		}
	}
	p := running[n%len(running)]
	tr.c.mustHermes("-p", p.name, "gateway", "stop")
	if r := tr.c.hermes("-p", p.name, "gateway", "status"); r.code != 3 {
		tr.t.Errorf("status of %s after its stop: want exit 3, got %v", p.name, r)
	}
	tr.c.mustHermes("-p", p.name, "gateway", "start")
	tr.starts[p.name]++
	if r := tr.c.hermes("-p", p.name, "gateway", "status"); r.code != 0 {
		tr.t.Errorf("status of %s after its start: %v", p.name, r)
	}
}

// waitSettled waits until every profile is in the state the operator left
// it in: running with a pid, or stopped.
func (tr *tier) waitSettled() {
	tr.t.Helper()
	var last map[string]status
	err := wait.Poll{What: "every gateway in its state", Timeout: upWithin, Interval: 100 * time.Millisecond}.Until(context.Background(),
		func() (bool, error) {
			last = tr.c.statuses()
			for _, p := range tr.profiles {
				s := last[p.name]
				if p.stopped != (s.State == "stopped") || !p.stopped && (s.State != "running" || s.PID == nil) {
					return false, nil
				}
			}
			return true, nil
		})
	if err != nil {
		tr.t.Fatalf("%v: %+v\nconsole:\n%s", err, last, tr.c.console)
	}
}

// checkRunning checks each profile against what the operator registered:
// status's exit code, the slot's run script and the registration file as
// registered, and a running gateway's user and environment.
func (tr *tier) checkRunning() {
	tr.t.Helper()
	sts := tr.c.statuses()
	for _, p := range tr.profiles {
		want := 0
		if p.stopped {
			want = 3
		}
		if r := tr.c.hermes("-p", p.name, "gateway", "status"); r.code != want {
			tr.t.Errorf("status of %s: want exit %d, got %v", p.name, want, r)
		}
		if got := tr.runScript(p); got != tr.runs[p.name] {
			tr.t.Errorf("the %s slot's run script changed:\nregistered:\n%s\nnow:\n%s", p.name, tr.runs[p.name], got)
		}
		if got := tr.registrationOf(p); got != tr.regs[p.name] {
			tr.t.Errorf("%s's %s changed:\nregistered: %s\nnow: %s", p.name, registration.File, tr.regs[p.name], got)
		}
		if p.stopped {
			continue
		}
		pid, err := tr.gatewayPID(p, sts[p.name])
		if err != nil {
			tr.t.Errorf("%s's gateway: %v", p.name, err)
			continue
		}
		if uid, err := tr.c.uid(pid); err != nil || uid != layout.uid {
			tr.t.Errorf("%s's gateway (pid %d) runs as uid %d (%v), want the service user's %d", p.name, pid, uid, err, layout.uid)
		}
		if len(p.env) == 0 {
			continue
		}
		env, err := tr.c.environ(pid)
		if err != nil {
			tr.t.Errorf("%s's gateway (pid %d): %v", p.name, pid, err)
			continue
		}
		for k, v := range p.env {
			if env[k] != v {
				tr.t.Errorf("%s's gateway (pid %d) sees %s=%q, registered %q", p.name, pid, k, env[k], v)
			}
		}
	}
}

// gatewayPID is the pid of the profile's gateway program inside the
// container: the supervised process under --protocol hermes (the runner
// replaced itself with it), the runner's child under plain (the runner
// records it in the state file).
func (tr *tier) gatewayPID(p tierProfile, s status) (int, error) {
	if s.PID == nil {
		return 0, fmt.Errorf("not running: %+v", s)
	}
	if !p.plain {
		return *s.PID, nil
	}
	st, err := gateway.ReadState(tr.vol.path(profileDir(p.name)))
	if err != nil {
		return 0, err
	}
	raw := st.Raw(childPIDKey)
	if raw == nil {
		return 0, errors.New("the state file names no " + childPIDKey)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w", childPIDKey, raw, err)
	}
	return pid, nil
}

// runScript is the profile's slot's run script in the running container.
func (tr *tier) runScript(p tierProfile) string {
	tr.t.Helper()
	data, err := os.ReadFile(tr.c.inside(filepath.Join(layout.scanDir, "gateway-"+p.name, "run")))
	if err != nil {
		tr.t.Errorf("the %s slot: %v", p.name, err)
	}
	return string(data)
}

// registrationOf is the profile's registration file on the volume.
func (tr *tier) registrationOf(p tierProfile) string {
	tr.t.Helper()
	data, err := os.ReadFile(tr.vol.path(filepath.Join(profileDir(p.name), registration.File)))
	if err != nil {
		tr.t.Errorf("%s's registration: %v", p.name, err)
	}
	return string(data)
}

// checkAudit checks the boot's lines in logs/container-boot.log: one per
// profile, started for the running ones, registered for the rest; the
// first boot finds nothing recorded.
func (tr *tier) checkAudit(first bool) {
	tr.t.Helper()
	lines := tr.vol.auditLines()
	if len(lines) != tr.audited+len(tr.profiles) {
		tr.t.Fatalf("boot %d: container-boot.log has %d lines, want %d + one per profile (%d):\n%s",
			tr.boots, len(lines), tr.audited, len(tr.profiles), strings.Join(lines, "\n"))
	}
	got := map[string]string{}
	for _, line := range lines[tr.audited:] {
		_, rest, _ := strings.Cut(line, " ")
		profile := strings.TrimPrefix(strings.Fields(rest)[0], "profile=")
		if _, dup := got[profile]; dup {
			tr.t.Errorf("boot %d: two audit lines for %s", tr.boots, profile)
		}
		got[profile] = rest
	}
	tr.audited = len(lines)
	for _, p := range tr.profiles {
		e := boot.Entry{Profile: p.name}
		switch {
		case first:
		case p.stopped:
			e.Prior = "stopped"
		default:
			e.Prior = "running"
		}
		_, want, _ := strings.Cut(boot.AuditLine(e, time.Now()), " ")
		if got[p.name] != want {
			tr.t.Errorf("boot %d: %s's audit line is %q, want %q", tr.boots, p.name, got[p.name], want)
		}
	}
}

// checkConsole checks the ended container's console: each profile's gateway
// started exactly as many times as the boot and the operator started it.
// More is a slot restarting by itself (a crash loop).
func (tr *tier) checkConsole() {
	tr.t.Helper()
	seen := tr.c.consoleStarts()
	for _, p := range tr.profiles {
		if got, want := seen[p.home()], tr.starts[p.name]; got != want {
			tr.t.Errorf("container %d: the console shows %d starts of %s's gateway, want %d\nconsole:\n%s",
				tr.boots, got, p.name, want, tr.c.console)
		}
	}
}
