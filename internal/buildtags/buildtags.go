// Package buildtags holds the build tags every build of hermes's binaries
// uses: the release's (release.BuildInto, so make build too) and the
// tests' (internal/testbin) alike.
package buildtags

// Tags is go build's -tags value.
//
// urfave_cli_no_docs leaves out urfave/cli's Markdown and man page
// rendering, and with it a Markdown library whose package setup cost every
// hermes command 0.3 ms before main ran, 3% of a status (hermes renders
// its man page itself: host/man.go).
const Tags = "urfave_cli_no_docs"
