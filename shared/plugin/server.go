package plugin

import (
	"context"
	"errors"
	"fmt"
	"golang.org/x/sync/errgroup"
	"math"
	"runtime/debug"
	"sort"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/nousresearch/hermes-service/shared/gateway"
	pb "github.com/nousresearch/hermes-service/shared/proto/hermes/service/v1"
	"github.com/nousresearch/hermes-service/shared/service"
)

// statusesParallelism bounds the fallback fan-out of Statuses over Status.
const statusesParallelism = 8

// server exposes a Manager over gRPC. It enforces the parts of the contract
// that do not depend on the init system, so every backend served through the
// SDK gets them right: profile names and environment keys are validated
// before the backend sees them, operations outside the declared capabilities
// answer "unsupported" (never a silent success), and a panicking backend
// returns an error instead of killing the plugin mid-call.
type server struct {
	pb.UnimplementedManagerServiceServer
	impl service.Manager
	log  hclog.Logger

	identMu sync.Mutex
	ident   *service.Identity // cached after the first success
}

// NewServer returns the gRPC service for impl; Serve uses it, and so can a
// test that wants a Manager on a gRPC connection of its own.
func NewServer(impl service.Manager, log hclog.Logger) pb.ManagerServiceServer {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	return &server{impl: impl, log: log}
}

// identity asks the backend once and remembers the answer; a failure (a
// cancelled first call, say) is not remembered.
func (s *server) identity(ctx context.Context) (service.Identity, error) {
	s.identMu.Lock()
	defer s.identMu.Unlock()
	if s.ident != nil {
		return *s.ident, nil
	}
	var id service.Identity
	err := s.guard(ctx, "identify", func() error {
		var err error
		id, err = s.impl.Identify(ctx)
		return err
	})
	if err != nil {
		return id, err
	}
	s.ident = &id
	return id, nil
}

// guard runs one backend call, turning a panic into an Internal error and
// any error into a status carrying its typed detail.
func (s *server) guard(ctx context.Context, op string, fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("backend panicked", "op", op, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			err = status.Errorf(codes.Internal, "the backend panicked during %s: %v", op, r)
		}
	}()
	if err := ctx.Err(); err != nil {
		return toStatus(err)
	}
	return toStatus(fn())
}

// require answers "unsupported" for an operation outside the backend's
// declared capabilities.
func (s *server) require(ctx context.Context, op string, has func(service.Capabilities) bool) error {
	id, err := s.identity(ctx)
	if err != nil {
		return err
	}
	if !has(id.Capabilities) {
		return toStatus(&service.UnsupportedError{Operation: op, Backend: id.Kind, HintText: unsupportedHints[op]})
	}
	return nil
}

// unsupportedHints say what to do instead, where the contract knows.
var unsupportedHints = map[string]string{
	"register":      "runtime registration exists on the s6 backend only; use hermes gateway install instead",
	"unregister":    "runtime registration exists on the s6 backend only; use hermes gateway uninstall instead",
	"reconcile":     "boot reconciliation exists on the s6 backend only; other service managers start gateways at boot themselves",
	"install":       "this backend registers gateways at run time instead: hermes gateway register",
	"uninstall":     "this backend registers gateways at run time instead: hermes gateway unregister",
	"logs --follow": "run it without -f",
}

func validate(profile string) error {
	return toStatus(service.ValidateProfile(profile))
}

// The capabilities operations need.
var (
	needInstall      = func(c service.Capabilities) bool { return c.Install }
	needRegistration = func(c service.Capabilities) bool { return c.Registration }
	needSystemScope  = func(c service.Capabilities) bool { return c.SystemScope }
)

// act runs one operation on profile: the name validated, the capability
// (when the operation needs one) declared, and env's keys valid, before the
// backend is called, guarded.
func (s *server) act(ctx context.Context, op, profile string, need func(service.Capabilities) bool, env map[string]string, fn func() error) error {
	if err := validate(profile); err != nil {
		return err
	}
	if need != nil {
		if err := s.require(ctx, op, need); err != nil {
			return err
		}
	}
	if err := toStatus(service.ValidateEnv(env)); err != nil {
		return err
	}
	return s.guard(ctx, op, fn)
}

func (s *server) Identify(ctx context.Context, _ *pb.IdentifyRequest) (*pb.IdentifyResponse, error) {
	id, err := s.identity(ctx)
	if err != nil {
		return nil, err
	}
	return &pb.IdentifyResponse{Kind: id.Kind, Version: id.Version, Capabilities: capsToPB(id.Capabilities)}, nil
}

func (s *server) Install(ctx context.Context, req *pb.InstallRequest) (*pb.InstallResponse, error) {
	if err := validate(req.GetProfile()); err != nil {
		return nil, err
	}
	if err := s.require(ctx, "install", needInstall); err != nil {
		return nil, err
	}
	if req.GetSystem() {
		if err := s.require(ctx, "system-scope install", needSystemScope); err != nil {
			return nil, err
		}
	}
	opts := service.InstallOptions{
		Force: req.GetForce(), StartNow: req.GetStartNow(), StartOnLogin: req.GetStartOnLogin(),
		ElevatedHandoff: req.GetElevatedHandoff(), System: req.GetSystem(), RunAsUser: req.GetRunAsUser(),
		Env: cloneEnv(req.GetEnv()), Command: req.GetCommand(), StopTimeout: stopTimeout(req.GetStopTimeoutMs()),
	}
	if err := toStatus(service.ValidateStopTimeout(opts.StopTimeout)); err != nil {
		return nil, err
	}
	return &pb.InstallResponse{}, s.act(ctx, "install", req.GetProfile(), nil, req.GetEnv(), func() error {
		return s.impl.Install(ctx, req.GetProfile(), opts)
	})
}

func (s *server) Uninstall(ctx context.Context, req *pb.UninstallRequest) (*pb.UninstallResponse, error) {
	return &pb.UninstallResponse{}, s.act(ctx, "uninstall", req.GetProfile(), needInstall, nil, func() error {
		return s.impl.Uninstall(ctx, req.GetProfile())
	})
}

func (s *server) Start(ctx context.Context, req *pb.StartRequest) (*pb.StartResponse, error) {
	return &pb.StartResponse{}, s.act(ctx, "start", req.GetProfile(), nil, nil, func() error { return s.impl.Start(ctx, req.GetProfile()) })
}

func (s *server) Stop(ctx context.Context, req *pb.StopRequest) (*pb.StopResponse, error) {
	return &pb.StopResponse{}, s.act(ctx, "stop", req.GetProfile(), nil, nil, func() error { return s.impl.Stop(ctx, req.GetProfile()) })
}

func (s *server) Restart(ctx context.Context, req *pb.RestartRequest) (*pb.RestartResponse, error) {
	return &pb.RestartResponse{}, s.act(ctx, "restart", req.GetProfile(), nil, nil, func() error { return s.impl.Restart(ctx, req.GetProfile()) })
}

func (s *server) Status(ctx context.Context, req *pb.StatusRequest) (*pb.StatusResponse, error) {
	if err := validate(req.GetProfile()); err != nil {
		return nil, err
	}
	st, err := s.status(ctx, req.GetProfile())
	if err != nil {
		return nil, err
	}
	return &pb.StatusResponse{Status: statusToPB(st)}, nil
}

// status fills in what the contract promises even when a backend forgets:
// the profile asked about, the backend's kind and a valid state.
func (s *server) status(ctx context.Context, profile string) (service.Status, error) {
	var st service.Status
	err := s.guard(ctx, "status", func() error {
		var err error
		st, err = s.impl.Status(ctx, profile)
		return err
	})
	if err != nil {
		return st, err
	}
	if err := s.invalidState(ctx, profile, st); err != nil {
		return st, err
	}
	return s.complete(ctx, profile, st), nil
}

// invalidState refuses a status whose state the contract does not name: a
// backend's bug, said as one, where showing "unknown" would hide it. An
// empty state is one the backend did not set: complete makes it unknown.
func (s *server) invalidState(ctx context.Context, profile string, st service.Status) error {
	if st.State == "" || st.State.Valid() {
		return nil
	}
	id, _ := s.identity(ctx)
	return status.Errorf(codes.Internal, "the %s backend reported the state %q for profile %s, which is not one of "+
		"running, stopped, starting, failed, unknown: a bug in the backend (run %s on it)", id.Kind, st.State, profile,
		gateway.CommandLinePluginsCheck)
}

func (s *server) complete(ctx context.Context, profile string, st service.Status) service.Status {
	if st.Profile == "" {
		st.Profile = profile
	}
	if st.Backend == "" {
		id, _ := s.identity(ctx)
		st.Backend = id.Kind
	}
	if !st.State.Valid() {
		st.State = service.StateUnknown
	}
	return st
}

func (s *server) Statuses(ctx context.Context, req *pb.StatusesRequest) (*pb.StatusesResponse, error) {
	shortLivedGC() // a plugin lives for one command; this one may read thousands
	for _, p := range req.GetProfiles() {
		if err := validate(p); err != nil {
			return nil, err
		}
	}
	var sts []service.Status
	err := s.guard(ctx, "statuses", func() error {
		var err error
		sts, err = s.impl.Statuses(ctx, req.GetProfiles())
		return err
	})
	if err != nil && status.Code(err) == codes.Unimplemented {
		sts, err = s.statusEach(ctx, req.GetProfiles())
	}
	if err != nil {
		return nil, err
	}
	out := &pb.StatusesResponse{Statuses: make([]*pb.Status, len(sts))}
	for i, st := range sts {
		if err := s.invalidState(ctx, st.Profile, st); err != nil {
			return nil, err
		}
		want := st.Profile
		if i < len(req.GetProfiles()) {
			want = req.GetProfiles()[i]
		}
		out.Statuses[i] = statusToPB(s.complete(ctx, want, st))
	}
	return out, nil
}

// statusEach is Statuses for backends that have no bulk path: Status per
// profile, statusesParallelism at a time; all profiles means the registered
// ones.
func (s *server) statusEach(ctx context.Context, profiles []string) ([]service.Status, error) {
	if len(profiles) == 0 {
		resp, err := s.List(ctx, &pb.ListRequest{})
		if err != nil {
			return nil, err
		}
		profiles = resp.GetProfiles()
	}
	out := make([]service.Status, len(profiles))
	errs := make([]error, len(profiles))
	var g errgroup.Group
	g.SetLimit(statusesParallelism)
	for i, p := range profiles {
		g.Go(func() error {
			out[i], errs[i] = s.status(ctx, p)
			return nil // every profile is asked; the errors are joined below
		})
	}
	_ = g.Wait()
	return out, errors.Join(errs...)
}

func (s *server) Register(ctx context.Context, req *pb.RegisterRequest) (*pb.RegisterResponse, error) {
	opts := registerOptions(req)
	if err := validate(req.GetProfile()); err != nil {
		return nil, err
	}
	if err := toStatus(service.ValidateStopTimeout(opts.StopTimeout)); err != nil {
		return nil, err
	}
	return &pb.RegisterResponse{}, s.act(ctx, "register", req.GetProfile(), needRegistration, req.GetEnv(), func() error {
		return s.impl.Register(ctx, req.GetProfile(), opts)
	})
}

// registerOptions are a register request's options.
func registerOptions(req *pb.RegisterRequest) service.RegisterOptions {
	return service.RegisterOptions{StartNow: req.GetStartNow(), Env: cloneEnv(req.GetEnv()), Command: req.GetCommand(),
		StopTimeout: stopTimeout(req.GetStopTimeoutMs()), Force: req.GetForce()}
}

// stopTimeout is a request's stop_timeout_ms as a duration; one past what
// a duration holds is the longest duration, not one wrapped around.
func stopTimeout(ms int64) time.Duration {
	if ms > math.MaxInt64/int64(time.Millisecond) {
		return math.MaxInt64
	}
	return time.Duration(ms) * time.Millisecond
}

func (s *server) Unregister(ctx context.Context, req *pb.UnregisterRequest) (*pb.UnregisterResponse, error) {
	return &pb.UnregisterResponse{}, s.act(ctx, "unregister", req.GetProfile(), needRegistration, nil, func() error {
		return s.impl.Unregister(ctx, req.GetProfile())
	})
}

func (s *server) Reconcile(ctx context.Context, req *pb.ReconcileRequest) (*pb.ReconcileResponse, error) {
	entries := make([]service.Registration, len(req.GetEntries()))
	for i, e := range req.GetEntries() {
		if err := validate(e.GetProfile()); err != nil {
			return nil, err
		}
		if err := toStatus(service.ValidateEnv(e.GetEnv())); err != nil {
			return nil, err
		}
		entries[i] = service.Registration{Profile: e.GetProfile(), RegisterOptions: registerOptions(e)}
		if err := toStatus(service.ValidateStopTimeout(entries[i].StopTimeout)); err != nil {
			return nil, err
		}
	}
	if err := s.require(ctx, "reconcile", needRegistration); err != nil {
		return nil, err
	}
	return &pb.ReconcileResponse{}, s.guard(ctx, "reconcile", func() error { return s.impl.Reconcile(ctx, entries) })
}

func (s *server) List(ctx context.Context, _ *pb.ListRequest) (*pb.ListResponse, error) {
	id, err := s.identity(ctx)
	if err != nil {
		return nil, err
	}
	if !id.Capabilities.Registration {
		return &pb.ListResponse{Profiles: []string{}}, nil
	}
	var profiles []string
	err = s.guard(ctx, "list", func() error {
		var err error
		profiles, err = s.impl.List(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(profiles)
	return &pb.ListResponse{Profiles: profiles}, nil
}

func (s *server) Logs(req *pb.LogsRequest, stream pb.ManagerService_LogsServer) error {
	ctx := stream.Context()
	if err := validate(req.GetProfile()); err != nil {
		return err
	}
	if err := s.require(ctx, "logs", func(c service.Capabilities) bool { return c.Logs }); err != nil {
		return err
	}
	if req.GetFollow() {
		if err := s.require(ctx, "logs --follow", func(c service.Capabilities) bool { return c.FollowLogs }); err != nil {
			return err
		}
	}
	opts := service.LogOptions{Lines: int(req.GetLines()), Follow: req.GetFollow()}
	if opts.Lines <= 0 {
		opts.Lines = service.DefaultLogLines // the backend never sees "the default"
	}
	err := s.guard(ctx, "logs", func() error {
		return s.impl.Logs(ctx, req.GetProfile(), opts, func(l service.LogLine) error {
			return stream.Send(logLineToPB(l))
		})
	})
	if req.GetFollow() && ctx.Err() != nil {
		// The host hung up on a follow: that is how a follow ends.
		return nil
	}
	return err
}

func (s *server) Diagnose(ctx context.Context, req *pb.DiagnoseRequest) (*pb.DiagnoseResponse, error) {
	for _, p := range req.GetProfiles() {
		if err := validate(p); err != nil {
			return nil, err
		}
	}
	opts := service.DiagnoseOptions{Home: req.GetHome(), Hermes: req.GetHermes(), Profiles: req.GetProfiles()}
	var found []service.Finding
	err := s.guard(ctx, "diagnose", func() error {
		var err error
		found, err = s.impl.Diagnose(ctx, opts)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &pb.DiagnoseResponse{Findings: make([]*pb.Finding, len(found))}
	for i, f := range found {
		out.Findings[i] = findingToPB(f)
	}
	return out, nil
}
