//go:build !windows

package launchd

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nousresearch/hermes-service/internal/fakecmd"
	"github.com/nousresearch/hermes-service/internal/proctest"
	"github.com/nousresearch/hermes-service/internal/testbin"
	"github.com/nousresearch/hermes-service/internal/upstreamgateway"
	"github.com/nousresearch/hermes-service/internal/wait"
	"github.com/nousresearch/hermes-service/shared/gateway"
	"github.com/nousresearch/hermes-service/shared/service"
)

// TestTheJobRunsUpstreamsGateway runs what an installed job runs, as launchd
// would (its ProgramArguments, its environment, XPC_SERVICE_NAME), with the
// stand-in of upstream's gateway under the hermes protocol, then the
// operator's stop through the backend: the marker names the pid launchctl
// reports (the runner, which stays to translate exit codes), the runner
// hands it on to the gateway, and the gateway calls its stop planned.
// launchd's side of bootout, the SIGTERM, is sent here.
func TestTheJobRunsUpstreamsGateway(t *testing.T) {
	hermes, err := testbin.Cached("github.com/nousresearch/hermes-service/cmd/hermes")
	if err != nil {
		t.Fatal(err)
	}
	upstream, err := testbin.Cached(upstreamgateway.Package)
	if err != nil {
		t.Fatal(err)
	}
	b, tools, _ := mac(t, false)
	ctx := context.Background()
	svc := "gui/501/ai.hermes.gateway.work"
	_ = tools.Set(fakecmd.Reply{Argv: []string{"launchctl", "managername"}, Stdout: "Aqua\n"},
		fakecmd.Reply{Argv: []string{"launchctl", "print", svc}, Exit: 113})
	cmd := gateway.RunnerArgv(hermes, "work", gateway.FlagProtocol, gateway.ProtocolHermes, gateway.ProgramSeparator,
		upstream, "-p", "work", "gateway", "run")
	if err := b.Install(ctx, "work", service.InstallOptions{Command: cmd, Env: map[string]string{upstreamgateway.EnvMaxStarts: "0"}}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(b.cfg.AgentsDir, Label("work")+".plist"))
	if err != nil {
		t.Fatal(err)
	}
	j, err := decode(data)
	if err != nil {
		t.Fatal(err)
	}

	// launchd's part: start the job.
	job := exec.Command(j.ProgramArguments[0], j.ProgramArguments[1:]...)
	job.Dir = j.WorkingDirectory
	job.Env = []string{"XPC_SERVICE_NAME=" + j.Label}
	for k, v := range j.EnvironmentVariables {
		job.Env = append(job.Env, k+"="+v)
	}
	p := proctest.Start(t, job)
	out, done := p.Out, p.Done
	dir := profileDir(t, b, "work")
	var gw int
	if err := wait.For(ctx, "the gateway to run", 15*time.Second, func() bool {
		rec, _ := gateway.ReadPIDRecord(dir)
		if rec == nil || !strings.Contains(out.String(), upstreamgateway.RunningLine(rec.PID)) {
			return false
		}
		gw = rec.PID
		return true
	}); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(out.String(), upstreamgateway.LinePrefix+"supervised=true") {
		t.Fatalf("the gateway does not know it is supervised:\n%s", out)
	}

	// The operator's stop: launchctl print reports the job's pid, the runner.
	printed := strings.Replace(printRunning, "pid = 4242", "pid = "+strconv.Itoa(job.Process.Pid), 1)
	_ = tools.Set(fakecmd.Reply{Argv: []string{"launchctl", "print", svc}, Stdout: printed})
	if err := b.Stop(ctx, "work"); err != nil {
		t.Fatal(err)
	}
	_ = job.Process.Signal(syscall.SIGTERM) // launchd's bootout
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatalf("the job did not end:\n%s", out)
	}
	if code := job.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("the job exited %d (KeepAlive would restart it):\n%s", code, out)
	}
	if !strings.Contains(out.String(), upstreamgateway.StopLine("SIGTERM", true, upstreamgateway.ReasonMarker)) {
		t.Fatalf("the gateway did not see the operator's stop (gateway %d, runner %d):\n%s", gw, job.Process.Pid, out)
	}
	st, _ := gateway.ReadState(dir)
	if st.GatewayState() != gateway.GatewayStopped || st.DesiredState() != service.DesiredStopped {
		t.Fatalf("gateway_state %q desired_state %q, want stopped/stopped", st.GatewayState(), st.DesiredState())
	}
}
