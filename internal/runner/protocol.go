package runner

import (
	"fmt"
	"os"
	"os/exec"

	"github.com/nousresearch/hermes-service/shared/gateway"
)

// Protocol is how the runner treats the gateway program.
type Protocol string

const (
	// ProtocolHermes is a program that speaks upstream's protocol itself
	// (upstream's `gateway run`): it owns its pid file, lock and state, and
	// classifies its own stops by the planned-stop marker. The runner sets
	// up its environment and replaces itself with it, so the pid the
	// service manager supervises and signals, the pid in gateway.pid and
	// the pid a marker names are one process.
	ProtocolHermes Protocol = gateway.ProtocolHermes
	// ProtocolPlain is a program that knows nothing of the protocol: the
	// runner supervises it as its child and keeps the protocol for it.
	ProtocolPlain Protocol = gateway.ProtocolPlain
)

// ParseProtocol reads --protocol.
func ParseProtocol(s string) (Protocol, error) {
	switch p := Protocol(s); p {
	case ProtocolHermes, ProtocolPlain:
		return p, nil
	}
	return "", fmt.Errorf("unknown protocol %q: want %s or %s", s, ProtocolHermes, ProtocolPlain)
}

// gatewayEnv is the environment a hermes-protocol gateway starts with: the
// home's root (the program selects its profile itself, `-p P`), and the
// variables that tell upstream's gateway a supervisor runs it.
func gatewayEnv(root string) []string {
	return append(os.Environ(),
		gateway.EnvPair(gateway.EnvHome, root),
		gateway.EnvPair(gateway.EnvSupervisedChild, "1"),
		gateway.EnvPair(gateway.EnvExternalSupervisor, "1"))
}

// resolve finds the gateway program as exec would, so the error names it.
func resolve(program string) (string, error) {
	path, err := exec.LookPath(program)
	if err != nil {
		return "", configError(fmt.Errorf("the gateway program %q: %w", program, err))
	}
	return path, nil
}
