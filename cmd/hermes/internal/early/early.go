// Package early hands the common Hermes CLI command lines to the Hermes CLI
// from an init function, before the rest of hermes initialises.
//
// Go initialises packages in import-path order as soon as their imports
// are: with nothing but os, strings and syscall imported, this runs before
// gRPC, protobuf and the command-line library initialise, so a command
// passed through costs little more than hermes's process start. It takes
// only the cases it can decide with those: $HERMES_UPSTREAM_CLI of plain
// words with an absolute program, or, without it, a `hermes` script (#!)
// on PATH that is not this program. Anything else (quoting, a relative
// program, a binary that might be another copy of ours, the python3
// fallback, and every error) is left to package front, after start-up,
// which decides the same way. Only cmd/hermes imports it.
package early

import (
	"os"
	"strings"

	"github.com/nousresearch/hermes-service/internal/route"
)

// Names as package front and upstreamcli use them (tests hold them equal):
// this package imports neither.
const (
	envUpstreamCLI = "HERMES_UPSTREAM_CLI"
	programName    = "hermes"
)

func init() {
	if len(os.Args) == 0 || route.Of(os.Args[1:]) != route.Upstream {
		return
	}
	cli := upstreamCLI()
	if cli == nil {
		return
	}
	_ = execve(cli[0], append(cli, os.Args[1:]...), os.Environ())
	// The exec failed: front reports it, after start-up.
}

// upstreamCLI is the Hermes CLI when this package can tell it for sure.
func upstreamCLI() []string {
	if line := os.Getenv(envUpstreamCLI); line != "" {
		if strings.ContainsAny(line, "\"'\\#$`") {
			return nil // quoting or comments: shlex's to split
		}
		words := strings.Fields(line)
		if len(words) == 0 || !strings.HasPrefix(words[0], "/") {
			return nil
		}
		return words
	}
	self, _ := os.Executable()
	selfInfo, _ := os.Stat(self)
	for _, dir := range strings.Split(os.Getenv("PATH"), ":") {
		if !strings.HasPrefix(dir, "/") {
			continue
		}
		path := strings.TrimSuffix(dir, "/") + "/" + programName
		info, err := os.Stat(path)
		if err != nil || !info.Mode().IsRegular() || info.Mode().Perm()&0o111 == 0 {
			continue
		}
		if selfInfo != nil && os.SameFile(info, selfInfo) {
			continue
		}
		if !isScript(path) {
			return nil // a binary: maybe another copy of ours; front checks
		}
		return []string{path}
	}
	return nil
}

// isScript reports whether path starts with "#!": upstream's hermes is a
// Python entry-point script; ours never is.
func isScript(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 2)
	n, _ := f.Read(head)
	return n == 2 && string(head) == "#!"
}
