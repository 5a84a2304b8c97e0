package launchd

import (
	"bytes"
	"time"

	"howett.net/plist"

	"github.com/nousresearch/hermes-service/shared/gateway"
	"github.com/nousresearch/hermes-service/shared/service"
)

// labels names the profiles' jobs: ai.hermes.gateway for the default
// profile, ai.hermes.gateway.<profile> otherwise.
var labels = service.Naming{Default: "ai.hermes.gateway", Prefix: "ai.hermes.gateway."}

// Label is the launchd label of profile.
func Label(profile string) string { return labels.Name(profile) }

// keepAlive restarts the runner when it exits non-zero, and leaves it down
// after a clean exit (SuccessfulExit false). launchd cannot exempt one exit
// code, so a fatal configuration could not be spared a restart loop this
// way alone: the job runs the runner with --fatal-exit-code 0, so it exits
// 0 instead (see programArguments). Under the hermes protocol that makes
// the runner stay as the gateway's parent rather than replace itself with
// it, and hand an operator's stop on to it (internal/runner's relay).
// ThrottleInterval spaces out the restarts of a crashing gateway.
type keepAlive struct {
	SuccessfulExit bool `plist:"SuccessfulExit"`
}

// job is a launchd.plist(5), encoded by howett.net/plist.
type job struct {
	Label                string            `plist:"Label"`
	ProgramArguments     []string          `plist:"ProgramArguments"`
	WorkingDirectory     string            `plist:"WorkingDirectory"`
	EnvironmentVariables map[string]string `plist:"EnvironmentVariables"`
	RunAtLoad            bool              `plist:"RunAtLoad"`
	KeepAlive            keepAlive         `plist:"KeepAlive"`
	ThrottleInterval     int               `plist:"ThrottleInterval"`
	ExitTimeOut          int               `plist:"ExitTimeOut"`
	StandardOutPath      string            `plist:"StandardOutPath"`
	StandardErrorPath    string            `plist:"StandardErrorPath"`
	ProcessType          string            `plist:"ProcessType"`
	UserName             string            `plist:"UserName,omitempty"`
}

// sanePath is the PATH a gateway starts with: launchd gives jobs almost
// none, and Homebrew's folders are where a gateway's tools usually are.
const sanePath = "/opt/homebrew/bin:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"

// exitTimeOut is ExitTimeOut for a chosen stop timeout (0: gateway's
// StopBudget, the gateway's drain and the runner around it): the whole
// seconds launchd waits after its SIGTERM before its SIGKILL.
func exitTimeOut(stopTimeout time.Duration) int {
	return int(gateway.StopBudgetOf(stopTimeout) / time.Second)
}

// programArguments is the job's argv: the runner's, told to exit 0 on a
// fatal configuration, the one exit KeepAlive leaves down.
func programArguments(runner []string) []string {
	return gateway.AddRunnerFlags(runner, gateway.FlagFatalExit, gateway.ExitText(gateway.ExitOK))
}

func (j job) encode() ([]byte, error) {
	var b bytes.Buffer
	enc := plist.NewEncoder(&b)
	enc.Indent("\t")
	if err := enc.Encode(j); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func decode(data []byte) (job, error) {
	var j job
	_, err := plist.Unmarshal(data, &j)
	return j, err
}
