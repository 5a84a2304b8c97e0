// Package route decides who answers a hermes command line: hermes itself
// (`hermes gateway ...`) or the Hermes CLI in front of which it stands. It
// imports nothing but strings, so cmd/hermes can decide in an init
// function that runs before the rest of hermes initialises.
package route

// This package imports nothing at all, not even strings: Go initialises a
// package only after everything it imports, and strings waits on unicode,
// which comes late in the order. Its few string operations are below.

// Gateway is the one top-level command hermes answers (the same word as
// shared/Gateway, which this package may not import; a test
// holds them equal).
const Gateway = "gateway"

// Our hermes and upstream's Python hermes share a name, and upstream's CLI
// cannot hand `hermes gateway` to another program, so ours stands in front
// of theirs: it answers `hermes gateway ...` (the commands it has) and
// passes everything else, byte for byte, to upstream's CLI.

// Route is who answers a command line.
type Route int

const (
	Ours     Route = iota // hermes answers
	Upstream              // upstream's CLI answers, argv as given
	Version               // both: our version, then upstream's
)

// GatewaySubcommands are the words after `gateway` that hermes answers
// (its subcommands, their aliases, and help); any other goes to upstream's
// `gateway` (setup, migrate ...). host's tests hold it equal to the
// command tree.
var GatewaySubcommands = map[string]bool{
	"install": true, "uninstall": true, "start": true, "stop": true, "restart": true, "status": true,
	"register": true, "unregister": true, "list": true, "logs": true, "run": true, "reconcile": true,
	"supervise": true, "mark-stop": true, "wait-ready": true, "doctor": true, "plugins": true, "version": true,
	"completion": true, "man": true, "help": true, "h": true,
	"conformance-gateway": true, // conformance.WitnessCommand: the lifecycle check's gateway
}

// ourGlobalFlags are the flags hermes takes before `gateway`, and whether
// each takes a value. Any other flag there is upstream's (-m, --tui, -c ...)
// and so is the command.
var ourGlobalFlags = map[string]bool{
	"-p": true, "--profile": true, "--home": true, "--backend": true, "--scandir": true,
	"--plugin-timeout": true, "--debug": false,
	"-h": false, "--help": false, "--generate-bash-completion": false,
}

// versionFlags are upstream's spellings of --version (ours too).
var versionFlags = map[string]bool{"--version": true, "-V": true}

// Of decides who answers args (the command line after the program's
// name): hermes for `gateway` and one of its subcommands, for help, and for
// completion; both for --version; upstream's CLI for everything else,
// a bare `hermes` (upstream's chat) and `hermes gateway <what we lack>`
// (setup, migrate ...) included.
func Of(args []string) Route {
	help, version := false, false
	i := 0
	for ; i < len(args); i++ {
		a := args[i]
		if a == "--" || !isFlag(a) || a == "-" {
			break
		}
		name, hasValue := flagName(a)
		takesValue, ours := ourGlobalFlags[name]
		switch {
		case versionFlags[name]:
			version = true
		case !ours:
			return Upstream
		case name == "-h" || name == "--help" || name == "--generate-bash-completion":
			help = true
		case takesValue && !hasValue:
			i++
		}
	}
	if i >= len(args) || args[i] == "--" {
		switch {
		case version:
			return Version
		case help:
			return Ours
		}
		return Upstream // a bare hermes is upstream's chat
	}
	if args[i] != Gateway {
		return Upstream
	}
	for j := i + 1; j < len(args); j++ {
		a := args[j]
		switch {
		case a == "-p" || a == "--profile":
			j++
		case isFlag(a):
		default:
			if GatewaySubcommands[a] {
				return Ours
			}
			return Upstream
		}
	}
	return Ours // `hermes gateway` alone, or with flags only: our help
}

// isFlag reports whether a starts with "-".
func isFlag(a string) bool { return len(a) > 0 && a[0] == '-' }

// flagName is a flag without its "=value", and whether it had one.
func flagName(a string) (string, bool) {
	for i := 0; i < len(a); i++ {
		if a[i] == '=' {
			return a[:i], true
		}
	}
	return a, false
}
