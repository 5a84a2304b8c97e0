//go:build windows

package front

import (
	"errors"
	"os"
	"os/exec"
	"os/signal"

	"github.com/nousresearch/hermes-service/shared/gateway"
)

// runUpstream runs upstream's CLI as a child (Windows has no exec) with
// hermes's stdio, and passes its exit code back. Ctrl-C reaches the child
// through the console; hermes ignores it and waits.
func runUpstream(argv []string) (int, error) {
	signal.Ignore(os.Interrupt)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), nil
	}
	if err != nil {
		return gateway.ExitConfig, err
	}
	return 0, nil
}
