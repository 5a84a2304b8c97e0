//go:build linux

package s6_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nousresearch/hermes-service/internal/upstreamgateway"
	"github.com/nousresearch/hermes-service/shared/gateway"
	"github.com/nousresearch/hermes-service/shared/service"
)

// timeoutKill is a slot's timeout-kill file, which must be plain 0644.
func timeoutKill(t *testing.T, tr *tree, profile string) string {
	t.Helper()
	path := filepath.Join(tr.slot(profile), "timeout-kill")
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode() != 0o644 {
		t.Errorf("%s: mode %v", path, info.Mode())
	}
	data, _ := os.ReadFile(path)
	return string(data)
}

func msLine(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) + "\n" }

// TestSlotStopTimeout: a registration's stop timeout is the slot's
// timeout-kill, in milliseconds; none chosen is gateway.StopBudget.
// Reconcile writes each as it is given.
func TestSlotStopTimeout(t *testing.T) {
	tr := newTree(t)
	c := tr.launch()
	ctx := context.Background()
	tests := []struct {
		profile string
		budget  time.Duration
		want    string
	}{
		{"dflt", 0, "90000\n"},
		{"budget", gateway.StopBudget, "90000\n"},
		{"long", 2 * time.Minute, "120000\n"},
		{"short", 1500 * time.Millisecond, "1500\n"},
	}
	var regs []service.Registration
	for _, tt := range tests {
		cmd := gateway.RunnerArgv(bins.hermes, tt.profile)
		if err := c.Register(ctx, tt.profile, service.RegisterOptions{Command: cmd, StopTimeout: tt.budget}); err != nil {
			t.Fatal(err)
		}
		if got := timeoutKill(t, tr, tt.profile); got != tt.want {
			t.Errorf("%s (%s): timeout-kill %q, want %q", tt.profile, tt.budget, got, tt.want)
		}
		regs = append(regs, service.Registration{Profile: tt.profile,
			RegisterOptions: service.RegisterOptions{Command: cmd, StopTimeout: 2 * tt.budget}})
	}
	if err := c.Reconcile(ctx, regs); err != nil {
		t.Fatal(err)
	}
	for _, r := range regs {
		want := msLine(gateway.StopBudgetOf(r.StopTimeout))
		if got := timeoutKill(t, tr, r.Profile); got != want {
			t.Errorf("%s reconciled with %s: timeout-kill %q, want %q", r.Profile, r.StopTimeout, got, want)
		}
	}
}

// TestRegisterStopTimeoutFromTheCLI: `register --stop-timeout` lands in the
// slot twice: s6's timeout-kill, and under the plain protocol the runner's
// child timeout on the run line, what fits inside it.
func TestRegisterStopTimeoutFromTheCLI(t *testing.T) {
	tr := newTree(t)
	tr.register("work", "--no-start", "--stop-timeout", "2m")
	if got := timeoutKill(t, tr, "work"); got != "120000\n" {
		t.Errorf("timeout-kill %q", got)
	}
	run, _ := os.ReadFile(filepath.Join(tr.slot("work"), "run"))
	if !strings.Contains(string(run), " gateway run --stop-timeout 90s --replace\n") {
		t.Errorf("run script:\n%s", run)
	}
	if _, errOut, code := tr.hermes("-p", "other", "gateway", "register", "--stop-timeout", "5s"); code != 2 ||
		!strings.Contains(errOut, "--stop-timeout 5s") {
		t.Errorf("a 5s budget: exit %d\n%s", code, errOut)
	}
	if _, err := os.Stat(tr.slot("other")); !os.IsNotExist(err) {
		t.Errorf("a refused registration left a slot: %v", err)
	}
}

// TestTimeoutKillEndsAStopThatOverstaysItsBudget: a gateway that drains
// past the slot's stop budget is killed by s6-supervise when the budget
// runs out, and the operator's stop returns then, not after the drain.
func TestTimeoutKillEndsAStopThatOverstaysItsBudget(t *testing.T) {
	t.Parallel() // its own tree; a few quiet seconds
	const budget, drain = 2 * time.Second, time.Minute
	tr := newTree(t)
	c := tr.launch()
	ctx := context.Background()
	cmd := gateway.RunnerArgv(bins.hermes, "work", gateway.FlagProtocol, gateway.ProtocolHermes, "--",
		bins.upstream, "-p", "work", "gateway", "run")
	env := map[string]string{upstreamgateway.EnvDrain: drain.String(), gateway.EnvGatewayMaxStarts: "0"}
	if err := c.Register(ctx, "work", service.RegisterOptions{StartNow: true, Command: cmd, Env: env, StopTimeout: budget}); err != nil {
		t.Fatal(err)
	}
	tr.waitUp("work")
	began := time.Now()
	if err := c.Stop(ctx, "work"); err != nil {
		t.Fatal(err)
	}
	took := time.Since(began)
	tr.waitDown("work")
	if took < budget || took > budget+10*time.Second {
		t.Fatalf("the stop took %s with a %s budget and a %s drain; the gateway's log:\n%s", took.Round(time.Millisecond),
			budget, drain, gatewayLog(tr, "work"))
	}
	if m := tr.svstat("work", "signal"); m == nil || m["signal"] != "SIGKILL" {
		t.Fatalf("s6 says the gateway ended with %v, not s6-supervise's SIGKILL", m)
	}
	if st, _ := gateway.ReadState(tr.profileDir("work")); st.DesiredState() != service.DesiredStopped {
		t.Fatalf("desired_state %q after the killed stop", st.DesiredState())
	}
}
