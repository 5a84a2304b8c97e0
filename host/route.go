package host

import (
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/nousresearch/hermes-service/shared/gateway"
)

// Our hermes and upstream's Python hermes share a name, and upstream's CLI
// cannot hand `hermes gateway` to another program, so ours stands in front
// of theirs: it answers `hermes gateway ...` (the commands it has) and
// passes everything else, byte for byte, to upstream's CLI.

// route is who answers a command line.
type route int

const (
	routeOurs     route = iota // hermes answers
	routeUpstream              // upstream's CLI answers, argv as given
	routeVersion               // both: our version, then upstream's
)

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

// routeOf decides who answers args (the command line after the program's
// name): hermes for `gateway` and one of its subcommands, for help, and for
// completion; both for --version; upstream's CLI for everything else,
// a bare `hermes` (upstream's chat) and `hermes gateway <what we lack>`
// (setup, migrate ...) included.
func routeOf(args []string, gatewaySubcommands map[string]bool) route {
	help, version := false, false
	i := 0
	for ; i < len(args); i++ {
		a := args[i]
		if a == "--" || !strings.HasPrefix(a, "-") || a == "-" {
			break
		}
		name, _, hasValue := strings.Cut(a, "=")
		takesValue, ours := ourGlobalFlags[name]
		switch {
		case versionFlags[name]:
			version = true
		case !ours:
			return routeUpstream
		case name == "-h" || name == "--help" || name == "--generate-bash-completion":
			help = true
		case takesValue && !hasValue:
			i++
		}
	}
	if i >= len(args) || args[i] == "--" {
		switch {
		case version:
			return routeVersion
		case help:
			return routeOurs
		}
		return routeUpstream // a bare hermes is upstream's chat
	}
	if args[i] != gateway.CommandGateway {
		return routeUpstream
	}
	for j := i + 1; j < len(args); j++ {
		a := args[j]
		switch {
		case a == "-p" || a == "--profile":
			j++
		case strings.HasPrefix(a, "-"):
		default:
			if gatewaySubcommands[a] {
				return routeOurs
			}
			return routeUpstream
		}
	}
	return routeOurs // `hermes gateway` alone, or with flags only: our help
}

// subcommandNames are the names and aliases of cmd's subcommands.
func subcommandNames(cmd *cli.Command) map[string]bool {
	names := map[string]bool{}
	for _, s := range cmd.Subcommands {
		for _, n := range s.Names() {
			names[n] = true
		}
	}
	return names
}
