package plugin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
	"unicode/utf8"

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

func (c *client) Identify(ctx context.Context) (service.Identity, error) {
	cctx, cancel := c.ctx(ctx)
	defer cancel()
	resp, err := c.rpc.Identify(cctx, &pb.IdentifyRequest{})
	if err != nil {
		return service.Identity{}, c.fromRPC(ctx, "identify", err)
	}
	return service.Identity{Kind: resp.GetKind(), Version: resp.GetVersion(),
		Capabilities: capsFromPB(resp.GetCapabilities())}, nil
}

func (c *client) Install(ctx context.Context, profile string, o service.InstallOptions) error {
	if err := sendable(profile); err != nil {
		return err
	}
	cctx, cancel := c.ctx(ctx)
	defer cancel()
	_, err := c.rpc.Install(cctx, &pb.InstallRequest{
		Profile: profile, Force: o.Force, StartNow: o.StartNow, StartOnLogin: o.StartOnLogin,
		ElevatedHandoff: o.ElevatedHandoff, System: o.System, RunAsUser: o.RunAsUser,
		Env: o.Env, Command: o.Command,
	})
	return c.fromRPC(ctx, "install", err)
}

func (c *client) Uninstall(ctx context.Context, profile string) error {
	if err := sendable(profile); err != nil {
		return err
	}
	cctx, cancel := c.ctx(ctx)
	defer cancel()
	_, err := c.rpc.Uninstall(cctx, &pb.UninstallRequest{Profile: profile})
	return c.fromRPC(ctx, "uninstall", err)
}

func (c *client) Start(ctx context.Context, profile string) error {
	if err := sendable(profile); err != nil {
		return err
	}
	cctx, cancel := c.ctx(ctx)
	defer cancel()
	_, err := c.rpc.Start(cctx, &pb.StartRequest{Profile: profile})
	return c.fromRPC(ctx, "start", err)
}

func (c *client) Stop(ctx context.Context, profile string) error {
	if err := sendable(profile); err != nil {
		return err
	}
	cctx, cancel := c.ctx(ctx)
	defer cancel()
	_, err := c.rpc.Stop(cctx, &pb.StopRequest{Profile: profile})
	return c.fromRPC(ctx, "stop", err)
}

func (c *client) Restart(ctx context.Context, profile string) error {
	if err := sendable(profile); err != nil {
		return err
	}
	cctx, cancel := c.ctx(ctx)
	defer cancel()
	_, err := c.rpc.Restart(cctx, &pb.RestartRequest{Profile: profile})
	return c.fromRPC(ctx, "restart", err)
}

func (c *client) Status(ctx context.Context, profile string) (service.Status, error) {
	if err := sendable(profile); err != nil {
		return service.Status{}, err
	}
	cctx, cancel := c.ctx(ctx)
	defer cancel()
	resp, err := c.rpc.Status(cctx, &pb.StatusRequest{Profile: profile})
	if err != nil {
		return service.Status{}, c.fromRPC(ctx, "status", err)
	}
	return statusFromPB(resp.GetStatus()), nil
}

func (c *client) Statuses(ctx context.Context, profiles []string) ([]service.Status, error) {
	if err := sendable(profiles...); err != nil {
		return nil, err
	}
	cctx, cancel := c.ctx(ctx)
	defer cancel()
	resp, err := c.rpc.Statuses(cctx, &pb.StatusesRequest{Profiles: profiles})
	if err != nil {
		return nil, c.fromRPC(ctx, "statuses", err)
	}
	out := make([]service.Status, len(resp.GetStatuses()))
	for i, st := range resp.GetStatuses() {
		out[i] = statusFromPB(st)
	}
	return out, nil
}

func (c *client) Register(ctx context.Context, profile string, o service.RegisterOptions) error {
	if err := sendable(profile); err != nil {
		return err
	}
	cctx, cancel := c.ctx(ctx)
	defer cancel()
	_, err := c.rpc.Register(cctx, &pb.RegisterRequest{Profile: profile, StartNow: o.StartNow, Env: o.Env, Command: o.Command})
	return c.fromRPC(ctx, "register", err)
}

func (c *client) Unregister(ctx context.Context, profile string) error {
	if err := sendable(profile); err != nil {
		return err
	}
	cctx, cancel := c.ctx(ctx)
	defer cancel()
	_, err := c.rpc.Unregister(cctx, &pb.UnregisterRequest{Profile: profile})
	return c.fromRPC(ctx, "unregister", err)
}

func (c *client) Reconcile(ctx context.Context, entries []service.Registration) error {
	req := &pb.ReconcileRequest{Entries: make([]*pb.RegisterRequest, len(entries))}
	for i, e := range entries {
		if err := sendable(e.Profile); err != nil {
			return err
		}
		req.Entries[i] = &pb.RegisterRequest{Profile: e.Profile, StartNow: e.StartNow, Env: e.Env, Command: e.Command}
	}
	cctx, cancel := c.ctx(ctx)
	defer cancel()
	_, err := c.rpc.Reconcile(cctx, req)
	return c.fromRPC(ctx, "reconcile", err)
}

func (c *client) List(ctx context.Context) ([]string, error) {
	cctx, cancel := c.ctx(ctx)
	defer cancel()
	resp, err := c.rpc.List(cctx, &pb.ListRequest{})
	if err != nil {
		return nil, c.fromRPC(ctx, "list", err)
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
	if err := sendable(o.Profiles...); err != nil {
		return nil, err
	}
	cctx, cancel := c.ctx(ctx)
	defer cancel()
	resp, err := c.rpc.Diagnose(cctx, &pb.DiagnoseRequest{Home: o.Home, Hermes: o.Hermes, Profiles: o.Profiles})
	if err != nil {
		err = c.fromRPC(ctx, "diagnose", err)
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
