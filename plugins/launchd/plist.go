package launchd

import (
	"bytes"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

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

// encode is the plist's bytes. howett.net/plist escapes XML's markup, and
// launchd hands every string to the job as it is (execve's argv, the
// environment, chdir, open): no shell, no expansion, so nothing else needs
// quoting. What an XML plist cannot carry at all is refused (check): the
// encoder would write U+FFFD in its place and the job would get another
// value.
func (j job) encode() ([]byte, error) {
	if err := j.check(); err != nil {
		return nil, err
	}
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

// xmlProblem says why s cannot be a plist string, "" when it can: XML 1.0
// carries valid UTF-8 only, and of the control characters only tab,
// newline and carriage return (howett.net/plist writes \r as &#xD;, which
// keeps it); U+FFFE and U+FFFF are not XML characters either.
func xmlProblem(s string) string {
	if !utf8.ValidString(s) {
		return "it is not valid UTF-8, which a plist cannot carry"
	}
	for _, r := range s {
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0xfffe || r == 0xffff {
			return fmt.Sprintf("it holds %q, which a plist (XML 1.0) cannot carry", r)
		}
	}
	return ""
}

// check refuses a job whose strings a plist cannot carry, as an
// *service.InvalidOptionError (exit 2) naming the option each came from,
// and a program that is not an absolute path.
func (j job) check() error {
	invalid := func(option, value, reason string) error {
		return &service.InvalidOptionError{Option: option, Value: value, Reason: reason}
	}
	if len(j.ProgramArguments) == 0 || !strings.HasPrefix(j.ProgramArguments[0], "/") {
		return invalid("command", strings.Join(j.ProgramArguments, " "), "launchd needs the absolute path of the program")
	}
	for _, a := range j.ProgramArguments {
		if p := xmlProblem(a); p != "" {
			return invalid("command", a, p)
		}
	}
	for _, v := range []string{j.WorkingDirectory, j.StandardOutPath, j.StandardErrorPath, j.EnvironmentVariables[gateway.EnvHome]} {
		if p := xmlProblem(v); p != "" {
			return invalid("home", v, p)
		}
	}
	for k, v := range j.EnvironmentVariables {
		if p := xmlProblem(k + v); p != "" {
			return invalid("env", k, p)
		}
	}
	if p := xmlProblem(j.UserName); p != "" {
		return invalid("run-as-user", j.UserName, p)
	}
	return nil
}
