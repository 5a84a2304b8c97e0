package plugin

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"

	"github.com/nousresearch/hermes-service/shared/gateway"
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

// Factory builds a backend. It gets the plugin side's logger (see Logger);
// an error is a configuration problem (no home, a bad setting) that Serve
// reports and turns into exit gateway.ExitConfig, so a supervisor does not
// retry it.
type Factory func(log hclog.Logger) (service.Manager, error)

// Mode is another way the plugin's binary runs, chosen by its first
// argument: the Windows backend's binary is also the service process the
// Service Control Manager starts ("service ..."). Run gets the arguments
// after the name and returns the exit code.
type Mode struct {
	Name string
	Run  func(args []string) int
}

// Serve builds the backend with newBackend and runs it as a hermes backend
// plugin until the host closes the connection. It is the whole of a
// plugin's main:
//
//	func main() { plugin.Serve(mybackend.New) }
//
// A first argument naming one of modes runs that mode instead. Run by hand,
// with the single argument --version, it prints the backend's
// kind and version instead; with any other arguments, or none, it explains
// that hermes launches it and exits with status 1.
func Serve(newBackend Factory, modes ...Mode) {
	for _, m := range modes {
		if len(os.Args) > 1 && os.Args[1] == m.Name {
			os.Exit(m.Run(os.Args[2:]))
		}
	}
	log := Logger()
	impl, err := newBackend(log)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", filepath.Base(os.Args[0]), err)
		if hint := service.HintOf(err); hint != "" {
			fmt.Fprintf(os.Stderr, "hint: %s\n", hint)
		}
		os.Exit(gateway.ExitConfig)
	}
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

// Unavailable is the factory of a plugin built for a platform its backend
// does not run on: it says where the backend runs, and Serve exits
// gateway.ExitConfig.
func Unavailable(kind, where string) Factory {
	return func(hclog.Logger) (service.Manager, error) {
		return nil, &service.UnsupportedError{Operation: "serve", Backend: kind,
			HintText: "the " + kind + " backend runs on " + where}
	}
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
		"To see it, run: "+gateway.CommandLinePlugins+"\nTo test it, run: "+gateway.CommandLinePluginsCheck+" %s\n", os.Args[0], os.Args[0])
	return 1
}

// shortLivedGCPercent is the garbage collector's target while a process
// that lives for one command (a plugin, the host) handles thousands of
// statuses: with Go's default a status --all of 1,000 profiles spent about
// 3 ms of its 26 in collections that free memory the process is about to
// give back by exiting. A GOGC the operator set wins.
const shortLivedGCPercent = 400

// shortLivedGC applies shortLivedGCPercent, unless GOGC is set.
func shortLivedGC() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(shortLivedGCPercent)
	}
}

// ShortLivedGC is shortLivedGC for the host's commands that read many
// statuses and exit (status --all).
func ShortLivedGC() { shortLivedGC() }
