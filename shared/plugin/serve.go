package plugin

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"

	"github.com/nousresearch/hermes-service/shared/service"
)

var (
	loggerOnce sync.Once
	logger     hclog.Logger
)

// Logger is the plugin side's logger. Its lines travel to the host, which
// shows warnings and errors by default and everything with --debug. It
// writes to the process's original stderr, so take it before or in Serve
// (go-plugin redirects os.Stderr once serving).
func Logger() hclog.Logger {
	loggerOnce.Do(func() {
		logger = hclog.New(&hclog.LoggerOptions{
			Level:      hclog.Trace,
			Output:     os.Stderr,
			JSONFormat: true,
		})
	})
	return logger
}

// Serve runs impl as a hermes backend plugin until the host closes the
// connection. It is the whole of a plugin's main.
//
// Run by hand, with the single argument --version, it prints the backend's
// kind and version instead; with any other arguments, or none, it explains
// that hermes launches it and exits with status 1.
func Serve(impl service.Manager) {
	log := Logger()
	if os.Getenv(Handshake.MagicCookieKey) != Handshake.MagicCookieValue {
		os.Exit(serveByHand(impl, os.Args[1:]))
	}
	goplugin.Serve(&goplugin.ServeConfig{
		HandshakeConfig:  Handshake,
		VersionedPlugins: pluginSets(impl),
		GRPCServer:       goplugin.DefaultGRPCServer,
		Logger:           log,
	})
}

// serveByHand answers a person who ran the plugin directly.
func serveByHand(impl service.Manager, args []string) int {
	if len(args) == 1 && (args[0] == "--version" || args[0] == "version") {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		id, err := impl.Identify(ctx)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", os.Args[0], err)
			return 1
		}
		fmt.Printf("%s %s (protocol %d)\n", id.Kind, id.Version, ProtocolVersion)
		return 0
	}
	fmt.Fprintf(os.Stderr, "%s is a hermes backend plugin: hermes launches it, it is not run by hand.\n"+
		"To see it, run: hermes plugin list\nTo test it, run: hermes plugin check %s\n", os.Args[0], os.Args[0])
	return 1
}
