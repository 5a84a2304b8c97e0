package plugin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/nousresearch/hermes-service/shared/proto/hermes/service/v1"
	"github.com/nousresearch/hermes-service/shared/service"
)

// DefaultCallTimeout bounds every call whose context has no deadline of its
// own, so that a hung plugin yields an error and never a hung host. Long
// enough for a Windows service that takes its time to reach Running.
const DefaultCallTimeout = 2 * time.Minute

// client is the host side of the wire: a service.Manager whose every method
// is one RPC.
type client struct {
	rpc     pb.ManagerServiceClient
	timeout time.Duration
	// busy counts the calls under way: Close ends an idle plugin at once,
	// a busy one gracefully (its calls finish first).
	busy atomic.Int64
	// describe turns a transport failure into a *PluginError that names the
	// plugin and, when it died, its exit and last output.
	describe func(op string, err error) error
}

var _ service.Manager = (*client)(nil)

// NewClient returns a Manager that calls rpc. Launch uses it; so can a test
// with a gRPC connection of its own.
func NewClient(rpc pb.ManagerServiceClient) service.Manager {
	return &client{rpc: rpc, timeout: DefaultCallTimeout}
}

// sendable refuses, on the host, a profile name that cannot even cross the
// wire (protobuf strings are UTF-8); every other name goes to the plugin,
// which owns validation.
func sendable(profiles ...string) error {
	for _, p := range profiles {
		if !utf8.ValidString(p) {
			return service.ValidateProfile(p)
		}
	}
	return nil
}

func (c *client) ctx(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok || c.timeout <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, c.timeout)
}

// fromRPC turns an RPC error back into the error the backend returned.
func (c *client) fromRPC(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return c.transport(op, err)
	}
	if typed := decodeError(st); typed != nil {
		return typed
	}
	switch st.Code() {
	case codes.Canceled:
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w", op, ctx.Err())
		}
		return fmt.Errorf("%s: %w", op, context.Canceled)
	case codes.DeadlineExceeded:
		return c.transport(op, fmt.Errorf("no answer in time: %w", context.DeadlineExceeded))
	case codes.Unavailable:
		return c.transport(op, fmt.Errorf("the plugin stopped answering: %s", st.Message()))
	}
	return &RemoteError{Code: st.Code(), Message: st.Message()}
}

func (c *client) transport(op string, err error) error {
	if c.describe != nil {
		return c.describe(op, err)
	}
	return &PluginError{Plugin: "(in process)", Op: op, Err: err}
}

// call sends one unary RPC, for profiles: their names are checked for the
// wire first, the call gets the client's deadline when ctx has none, and a
// failure comes back as the backend's error.
func call[Req, Resp any](c *client, ctx context.Context, op string,
	rpc func(context.Context, Req, ...grpc.CallOption) (Resp, error), req Req, profiles ...string) (Resp, error) {
	var zero Resp
	if err := sendable(profiles...); err != nil {
		return zero, err
	}
	c.busy.Add(1)
	defer c.busy.Add(-1)
	cctx, cancel := c.ctx(ctx)
	defer cancel()
	resp, err := rpc(cctx, req)
	if err != nil {
		return zero, c.fromRPC(ctx, op, err)
	}
	return resp, nil
}

func (c *client) Identify(ctx context.Context) (service.Identity, error) {
	resp, err := call(c, ctx, "identify", c.rpc.Identify, &pb.IdentifyRequest{})
	if err != nil {
		return service.Identity{}, err
	}
	return service.Identity{Kind: resp.GetKind(), Version: resp.GetVersion(),
		Capabilities: capsFromPB(resp.GetCapabilities())}, nil
}

func (c *client) Install(ctx context.Context, profile string, o service.InstallOptions) error {
	_, err := call(c, ctx, "install", c.rpc.Install, &pb.InstallRequest{
		Profile: profile, Force: o.Force, StartNow: o.StartNow, StartOnLogin: o.StartOnLogin,
		ElevatedHandoff: o.ElevatedHandoff, System: o.System, RunAsUser: o.RunAsUser,
		Env: o.Env, Command: o.Command, StopTimeoutMs: o.StopTimeout.Milliseconds(),
	}, profile)
	return err
}

func (c *client) Uninstall(ctx context.Context, profile string) error {
	_, err := call(c, ctx, "uninstall", c.rpc.Uninstall, &pb.UninstallRequest{Profile: profile}, profile)
	return err
}

func (c *client) Start(ctx context.Context, profile string) error {
	_, err := call(c, ctx, "start", c.rpc.Start, &pb.StartRequest{Profile: profile}, profile)
	return err
}

func (c *client) Stop(ctx context.Context, profile string) error {
	_, err := call(c, ctx, "stop", c.rpc.Stop, &pb.StopRequest{Profile: profile}, profile)
	return err
}

func (c *client) Restart(ctx context.Context, profile string) error {
	_, err := call(c, ctx, "restart", c.rpc.Restart, &pb.RestartRequest{Profile: profile}, profile)
	return err
}

func (c *client) Status(ctx context.Context, profile string) (service.Status, error) {
	resp, err := call(c, ctx, "status", c.rpc.Status, &pb.StatusRequest{Profile: profile}, profile)
	if err != nil {
		return service.Status{}, err
	}
	return statusFromPB(resp.GetStatus()), nil
}

func (c *client) Statuses(ctx context.Context, profiles []string) ([]service.Status, error) {
	resp, err := call(c, ctx, "statuses", c.rpc.Statuses, &pb.StatusesRequest{Profiles: profiles}, profiles...)
	if err != nil {
		return nil, err
	}
	out := make([]service.Status, len(resp.GetStatuses()))
	for i, st := range resp.GetStatuses() {
		out[i] = statusFromPB(st)
	}
	return out, nil
}

func (c *client) Register(ctx context.Context, profile string, o service.RegisterOptions) error {
	_, err := call(c, ctx, "register", c.rpc.Register,
		&pb.RegisterRequest{Profile: profile, StartNow: o.StartNow, Env: o.Env, Command: o.Command,
			StopTimeoutMs: o.StopTimeout.Milliseconds(), Force: o.Force}, profile)
	return err
}

func (c *client) Unregister(ctx context.Context, profile string) error {
	_, err := call(c, ctx, "unregister", c.rpc.Unregister, &pb.UnregisterRequest{Profile: profile}, profile)
	return err
}

func (c *client) Reconcile(ctx context.Context, entries []service.Registration) error {
	req := &pb.ReconcileRequest{Entries: make([]*pb.RegisterRequest, len(entries))}
	profiles := make([]string, len(entries))
	for i, e := range entries {
		profiles[i] = e.Profile
		req.Entries[i] = &pb.RegisterRequest{Profile: e.Profile, StartNow: e.StartNow, Env: e.Env, Command: e.Command,
			StopTimeoutMs: e.StopTimeout.Milliseconds()}
	}
	_, err := call(c, ctx, "reconcile", c.rpc.Reconcile, req, profiles...)
	return err
}

func (c *client) List(ctx context.Context) ([]string, error) {
	resp, err := call(c, ctx, "list", c.rpc.List, &pb.ListRequest{})
	if err != nil {
		return nil, err
	}
	if resp.GetProfiles() == nil {
		return []string{}, nil
	}
	return resp.GetProfiles(), nil
}

// Logs streams lines to emit. A follow has no deadline (it ends with ctx);
// a plain read has the usual one.
func (c *client) Logs(ctx context.Context, profile string, o service.LogOptions, emit func(service.LogLine) error) error {
	if err := sendable(profile); err != nil {
		return err
	}
	c.busy.Add(1)
	defer c.busy.Add(-1)
	var (
		cctx   context.Context
		cancel context.CancelFunc
	)
	if o.Follow {
		cctx, cancel = context.WithCancel(ctx)
	} else {
		cctx, cancel = c.ctx(ctx)
	}
	defer cancel()
	stream, err := c.rpc.Logs(cctx, &pb.LogsRequest{Profile: profile, Lines: int32(o.Lines), Follow: o.Follow})
	if err != nil {
		return c.fromRPC(ctx, "logs", err)
	}
	for {
		line, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			if o.Follow && ctx.Err() != nil {
				return nil
			}
			return c.fromRPC(ctx, "logs", err)
		}
		if err := emit(logLineFromPB(line)); err != nil {
			return err
		}
	}
}

// Diagnose runs the backend's checks. A plugin older than the Diagnose RPC
// has no checks to offer: an empty list, as from service.Unimplemented.
func (c *client) Diagnose(ctx context.Context, o service.DiagnoseOptions) ([]service.Finding, error) {
	resp, err := call(c, ctx, "diagnose", c.rpc.Diagnose,
		&pb.DiagnoseRequest{Home: o.Home, Hermes: o.Hermes, Profiles: o.Profiles}, o.Profiles...)
	if err != nil {
		var remote *RemoteError
		if errors.As(err, &remote) && remote.Code == codes.Unimplemented {
			return []service.Finding{}, nil
		}
		return nil, err
	}
	out := make([]service.Finding, len(resp.GetFindings()))
	for i, f := range resp.GetFindings() {
		out[i] = findingFromPB(f)
	}
	return out, nil
}
