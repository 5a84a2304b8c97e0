//go:build linux

package s6_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/nousresearch/hermes-service/shared/gateway"
	"github.com/nousresearch/hermes-service/shared/service"
)

// TestOutsideStop: a gateway stopped from outside, under either protocol,
// stays wanted and comes back. Two stops from outside: the tree's teardown
// (s6-svscanctl -t, as a container stop does) and a SIGKILL of the slot's
// s6-supervise, which s6-svscan respawns while the old gateway still lives
// (the run line's --replace makes the new one take over). After each: the
// state file says running/running, every era of upstream's boot reader
// would start the gateway, exactly one gateway runs for the profile (none
// after a teardown), and after a container restart and `hermes gateway
// reconcile` the slot is up again.
func TestOutsideStop(t *testing.T) {
	protocols := []struct {
		name string
		// args register the profile's gateway through the CLI, so its
		// settings are on the volume for reconcile.
		args func() []string
		// claim holds the pid record of the process s6 supervises.
		claim gateway.Claim
	}{
		{gateway.ProtocolHermes, func() []string {
			return []string{"--protocol", gateway.ProtocolHermes,
				"--gateway-command", shellLine(bins.upstream, "-p", "work", "gateway", "run"),
				"--env", gateway.EnvGatewayMaxStarts + "=0"} // restarts here are on purpose
		}, gateway.Upstream},
		{gateway.ProtocolPlain, func() []string {
			return []string{"--protocol", gateway.ProtocolPlain, "--gateway-command", shellLine(bins.gateway)}
		}, gateway.Runner},
	}
	stops := []struct {
		name string
		// stop stops the gateway from outside and returns once things
		// settled; it leaves the tree running or not.
		stop func(t *testing.T, tr *tree, protocol string, pid int)
	}{
		{"svscanctl-t", func(t *testing.T, tr *tree, protocol string, pid int) {
			tr.stop()
			if left := gatewayProcs(tr, protocol); len(left) != 0 {
				t.Fatalf("after the tree's teardown, gateways still run: %v", left)
			}
		}},
		{"supervise-killed", func(t *testing.T, tr *tree, protocol string, pid int) {
			sup := tr.supervisePID("work")
			if sup == 0 {
				t.Fatal("no s6-supervise gateway-work under the tree's s6-svscan")
			}
			if err := syscall.Kill(sup, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			tr.waitFor("s6-svscan to respawn s6-supervise gateway-work", func() bool {
				p := tr.supervisePID("work")
				return p != 0 && p != sup
			})
			tr.waitFor("a new gateway to take over", func() bool {
				m := tr.svstat("work", "up", "pid")
				return m != nil && m["up"] == "true" && m["pid"] != strconv.Itoa(pid)
			})
			tr.waitFor("the old gateway to end", func() bool { return !gateway.Alive(pid) })
			tr.waitFor("one gateway for the profile", func() bool { return len(gatewayProcs(tr, protocol)) == 1 })
			// Settled: the new gateway has recorded itself running (until
			// then the state is the old one's last word: under the hermes
			// protocol, the "stopped" of its planned takeover).
			tr.waitUp("work")
		}},
	}
	for _, p := range protocols {
		for _, s := range stops {
			t.Run(p.name+"/"+s.name, func(t *testing.T) {
				tr := newTree(t)
				dir := tr.profileDir("work")
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, "SOUL.md"), []byte("# soul\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				defer func() {
					if t.Failed() {
						data, _ := os.ReadFile(filepath.Join(dir, gateway.StateFile))
						t.Logf("gateway_state.json: %s\ngateway log:\n%s", data, gatewayLog(tr, "work"))
					}
				}()
				tr.must(append([]string{"-p", "work", "gateway", "register"}, p.args()...)...)
				pid := tr.waitUp("work")
				tr.expectOneGateway(p.name, p.claim, pid)

				s.stop(t, tr, p.name, pid)
				st, _ := gateway.ReadState(dir)
				if st.GatewayState() != gateway.GatewayRunning || st.DesiredState() != service.DesiredRunning {
					t.Fatalf("after %s: gateway_state %q desired_state %q, want running/running",
						s.name, st.GatewayState(), st.DesiredState())
				}
				expectReaders(t, dir, "after "+s.name, true, true, true)
				if tr.svscan != nil { // the tree lives on: s6 runs the one gateway
					pid = tr.waitUp("work")
					tr.expectOneGateway(p.name, p.claim, pid)
					tr.stop() // then the container stops
				}

				// Back after reconcile: the container starts again, with a
				// new, empty scandir, and its boot reconciles.
				if err := os.RemoveAll(tr.scandir); err != nil {
					t.Fatal(err)
				}
				if err := os.MkdirAll(tr.scandir, 0o755); err != nil {
					t.Fatal(err)
				}
				tr.start()
				out := tr.must("gateway", "reconcile")
				if !strings.Contains(out, "profile=work prior_state=running action=started") {
					t.Fatalf("reconcile did not start work:\n%s", out)
				}
				pid = tr.waitUp("work")
				if st, _ := gateway.ReadState(dir); st.DesiredState() != service.DesiredRunning {
					t.Fatalf("after reconcile: desired_state %q", st.DesiredState())
				}
				tr.expectOneGateway(p.name, p.claim, pid)
			})
		}
	}
}

// expectOneGateway checks that one gateway runs for the profile "work" and
// that it is the one s6 supervises (pid) and the claim's pid record names.
func (tr *tree) expectOneGateway(protocol string, claim gateway.Claim, pid int) {
	tr.t.Helper()
	procs := gatewayProcs(tr, protocol)
	if len(procs) != 1 || procs[0] != pid {
		tr.t.Fatalf("gateways for the profile: %v, want the one s6 supervises, %d", procs, pid)
	}
	rec, err := claim.ReadPIDRecord(tr.profileDir("work"))
	if err != nil || rec == nil || rec.PID != pid || rec.Stale() != "" {
		tr.t.Fatalf("%s: %+v (%v), s6 supervises %d", claim.PIDFile, rec, err, pid)
	}
}

// gatewayProcs lists the live processes that are this tree's gateway (those
// whose HERMES_HOME is in the tree's home, wherever their parent is):
// upstream's stand-in under the hermes protocol, the runner under plain,
// and under plain also any test gateway that is not the child of the one
// runner (an orphan of a runner that is gone).
func gatewayProcs(tr *tree, protocol string) []int {
	var gateways, runners, children []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || !gateway.Alive(pid) {
			continue
		}
		exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		if err != nil {
			continue
		}
		environ, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if !slices.ContainsFunc(strings.Split(string(environ), "\x00"), func(kv string) bool {
			return strings.HasPrefix(kv, gateway.EnvHome+"="+tr.home)
		}) {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		switch args := strings.Split(string(cmdline), "\x00"); {
		case exe == bins.upstream:
			gateways = append(gateways, pid)
		case exe == bins.hermes && slices.Contains(args, gateway.CommandRun):
			runners = append(runners, pid)
		case exe == bins.gateway:
			children = append(children, pid)
		}
	}
	// A runner left behind under the hermes protocol (it replaces itself
	// with the gateway) counts; so does any test gateway under it.
	out := append(gateways, runners...)
	for _, c := range children {
		if protocol == gateway.ProtocolHermes || len(runners) != 1 || ppid(c) != runners[0] {
			out = append(out, c)
		}
	}
	return out
}

func ppid(pid int) int {
	stat, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 2 {
		return 0
	}
	n, _ := strconv.Atoi(f[1])
	return n
}

// supervisePID is the pid of the slot's s6-supervise, a child of the
// tree's s6-svscan; 0 when there is none.
func (tr *tree) supervisePID(profile string) int {
	if tr.svscan == nil {
		return 0
	}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || !gateway.Alive(pid) || ppid(pid) != tr.svscan.Process.Pid {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if string(cmdline) == "s6-supervise\x00gateway-"+profile+"\x00" {
			return pid
		}
	}
	return 0
}

// shellLine is words as one --gateway-command, each quoted as a shell
// would need it (a temporary folder may hold spaces).
func shellLine(words ...string) string {
	for i, w := range words {
		words[i] = "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
	}
	return strings.Join(words, " ")
}
