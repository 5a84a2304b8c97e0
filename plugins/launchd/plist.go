package launchd

import (
	"bytes"

	"howett.net/plist"

	"github.com/nousresearch/hermes-service/shared/service"
)

// Label is the launchd label of profile.
func Label(profile string) string {
	if profile == service.DefaultProfile {
		return "ai.hermes.gateway"
	}
	return "ai.hermes.gateway." + profile
}

// keepAlive restarts the runner when it exits non-zero, and leaves it down
// after a clean exit (SuccessfulExit false). launchd cannot exempt one exit
// code, so fatal configuration (78) could not be spared a restart loop this
// way alone: the plist says HERMES_SERVICE_MANAGER=launchd, and under it the
// runner records startup_failed and exits 0 instead of 78. ThrottleInterval
// spaces out the restarts of a crashing gateway.
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
