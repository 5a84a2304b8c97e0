package runner

import (
	"strings"

	"github.com/nousresearch/hermes-service/shared/gateway"
)

// Invocation is what decides whether a `hermes gateway run` may hand its
// gateway to a supervisor (an s6 slot) instead of running it itself: how it
// was invoked, and its environment.
type Invocation struct {
	// NoSupervise is --no-supervise.
	NoSupervise bool
	// Program is true when the command line names the gateway program
	// (after --): such a run says exactly what to run here.
	Program bool
	// Getenv reads the environment.
	Getenv func(string) string
}

// Foreground says why the run stays in the foreground whatever backend is
// in use, "" when nothing keeps it here: then, where a supervisor is at
// hand, a bare run hands the gateway to it (as upstream's `gateway run` does
// inside an s6 container), and the caller decides whether one is.
//
// A supervised child never hands itself on: every service definition hermes
// writes (s6 slots among them) sets the supervised-child variables for its
// runner, and a slot whose run redirected to itself would start itself
// forever. Either variable counts when it is set at all, as upstream counts
// its HERMES_S6_SUPERVISED_CHILD: erring towards the foreground can cost a
// redirect, never a loop.
func (inv Invocation) Foreground() string {
	for _, name := range []string{gateway.EnvS6SupervisedChild, gateway.EnvSupervisedChild} {
		if inv.Getenv(name) != "" {
			return "a supervised child (" + name + " is set)"
		}
	}
	switch {
	case inv.NoSupervise:
		return gateway.FlagNoSupervise + " was given"
	case NoSupervise(inv.Getenv):
		return gateway.EnvNoSupervise + " is set"
	case inv.Program:
		return "the command line names the gateway program"
	}
	return ""
}

// NoSupervise reports whether the environment asks a bare run to stay in
// the foreground: HERMES_GATEWAY_NO_SUPERVISE is 1, true or yes, in any case
// (the values upstream's gateway takes; any other is no).
func NoSupervise(getenv func(string) string) bool {
	switch strings.ToLower(getenv(gateway.EnvNoSupervise)) {
	case "1", "true", "yes":
		return true
	}
	return false
}
