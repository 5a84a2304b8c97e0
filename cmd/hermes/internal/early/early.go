// Package early hands the common Hermes CLI command lines to the Hermes CLI
// from an init function, before the rest of hermes initialises.
//
// Go initialises packages in import-path order as soon as their imports
// are: with nothing but os and syscall imported (not even strings, which
// waits on unicode, late in the order), this runs before
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
		words, ok := plainWords(line)
		if !ok || len(words) == 0 || words[0][0] != '/' {
			return nil // quoting, comments or a relative program: front's
		}
		return words
	}
	self, _ := os.Executable()
	selfInfo, _ := os.Stat(self)
	for _, dir := range split(os.Getenv("PATH"), ':') {
		if len(dir) == 0 || dir[0] != '/' {
			continue
		}
		if dir[len(dir)-1] != '/' {
			dir += "/"
		}
		path := dir + programName
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

// plainWords splits line at spaces and tabs; ok is false when it holds
// anything a shell would treat specially (quotes, escapes, comments,
// expansions), which only the real splitter may read.
func plainWords(line string) (words []string, ok bool) {
	start := -1
	for i := 0; i <= len(line); i++ {
		if i < len(line) {
			switch line[i] {
			case '"', '\'', '\\', '#', '$', '`', '\n':
				return nil, false
			}
		}
		if i == len(line) || line[i] == ' ' || line[i] == '\t' {
			if start >= 0 {
				words = append(words, line[start:i])
				start = -1
			}
			continue
		}
		if start < 0 {
			start = i
		}
	}
	return words, true
}

// split is strings.Split for one separator byte.
func split(s string, sep byte) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == sep {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}
