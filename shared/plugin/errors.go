package plugin

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/nousresearch/hermes-service/shared/gateway"
	pb "github.com/nousresearch/hermes-service/shared/proto/hermes/service/v1"
	"github.com/nousresearch/hermes-service/shared/service"
)

// toStatus turns a backend's error into a gRPC status whose details carry
// the typed error, so that fromStatus can rebuild it on the host.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	switch {
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, err.Error())
	}
	code, detail := encodeError(err)
	st := status.New(code, err.Error())
	if detail != nil {
		if withDetail, derr := st.WithDetails(detail); derr == nil {
			st = withDetail
		}
	}
	return st.Err()
}

func encodeError(err error) (codes.Code, *pb.Error) {
	var (
		invalidProfile *service.InvalidProfileError
		invalidOption  *service.InvalidOptionError
		notRegistered  *service.NotRegisteredError
		notInstalled   *service.NotInstalledError
		alreadyExists  *service.AlreadyExistsError
		commandFailed  *service.CommandFailedError
		unsupported    *service.UnsupportedError
		permission     *service.PermissionError
	)
	switch {
	case errors.As(err, &invalidProfile):
		return codes.InvalidArgument, &pb.Error{Kind: &pb.Error_InvalidProfile{InvalidProfile: &pb.InvalidProfile{
			Name: invalidProfile.Name, Reason: invalidProfile.Reason}}}
	case errors.As(err, &invalidOption):
		return codes.InvalidArgument, &pb.Error{Kind: &pb.Error_InvalidOption{InvalidOption: &pb.InvalidOption{
			Option: invalidOption.Option, Value: invalidOption.Value, Reason: invalidOption.Reason}}}
	case errors.As(err, &notRegistered):
		return codes.NotFound, &pb.Error{Kind: &pb.Error_NotRegistered{NotRegistered: &pb.NotRegistered{
			Profile: notRegistered.Profile, Service: notRegistered.Service, Hint: notRegistered.HintText}}}
	case errors.As(err, &notInstalled):
		return codes.NotFound, &pb.Error{Kind: &pb.Error_NotInstalled{NotInstalled: &pb.NotInstalled{
			Profile: notInstalled.Profile, Service: notInstalled.Service, Hint: notInstalled.HintText}}}
	case errors.As(err, &alreadyExists):
		return codes.AlreadyExists, &pb.Error{Kind: &pb.Error_AlreadyExists{AlreadyExists: &pb.AlreadyExists{
			Profile: alreadyExists.Profile, Service: alreadyExists.Service, Hint: alreadyExists.HintText}}}
	case errors.As(err, &commandFailed):
		return codes.Internal, &pb.Error{Kind: &pb.Error_CommandFailed{CommandFailed: &pb.CommandFailed{
			Service: commandFailed.Service, Action: commandFailed.Action, ExitCode: int64(commandFailed.ExitCode),
			Stderr: commandFailed.Stderr, Hint: commandFailed.HintText}}}
	case errors.As(err, &unsupported):
		return codes.Unimplemented, &pb.Error{Kind: &pb.Error_Unsupported{Unsupported: &pb.Unsupported{
			Operation: unsupported.Operation, Backend: unsupported.Backend, Hint: unsupported.HintText}}}
	case errors.As(err, &permission):
		return codes.PermissionDenied, &pb.Error{Kind: &pb.Error_PermissionDenied{PermissionDenied: &pb.PermissionDenied{
			Path: permission.Path, Operation: permission.Operation, Hint: permission.HintText}}}
	}
	return codes.Unknown, nil
}

// decodeError rebuilds the typed error carried in a status's details, or nil
// when it carries none.
func decodeError(st *status.Status) error {
	for _, d := range st.Details() {
		e, ok := d.(*pb.Error)
		if !ok {
			continue
		}
		switch k := e.GetKind().(type) {
		case *pb.Error_InvalidProfile:
			return &service.InvalidProfileError{Name: k.InvalidProfile.GetName(), Reason: k.InvalidProfile.GetReason()}
		case *pb.Error_InvalidOption:
			return &service.InvalidOptionError{Option: k.InvalidOption.GetOption(), Value: k.InvalidOption.GetValue(),
				Reason: k.InvalidOption.GetReason()}
		case *pb.Error_NotRegistered:
			return &service.NotRegisteredError{Profile: k.NotRegistered.GetProfile(), Service: k.NotRegistered.GetService(),
				HintText: k.NotRegistered.GetHint()}
		case *pb.Error_NotInstalled:
			return &service.NotInstalledError{Profile: k.NotInstalled.GetProfile(), Service: k.NotInstalled.GetService(),
				HintText: k.NotInstalled.GetHint()}
		case *pb.Error_AlreadyExists:
			return &service.AlreadyExistsError{Profile: k.AlreadyExists.GetProfile(), Service: k.AlreadyExists.GetService(),
				HintText: k.AlreadyExists.GetHint()}
		case *pb.Error_CommandFailed:
			return &service.CommandFailedError{Service: k.CommandFailed.GetService(), Action: k.CommandFailed.GetAction(),
				ExitCode: int(k.CommandFailed.GetExitCode()), Stderr: k.CommandFailed.GetStderr(), HintText: k.CommandFailed.GetHint()}
		case *pb.Error_Unsupported:
			return &service.UnsupportedError{Operation: k.Unsupported.GetOperation(), Backend: k.Unsupported.GetBackend(),
				HintText: k.Unsupported.GetHint()}
		case *pb.Error_PermissionDenied:
			return &service.PermissionError{Path: k.PermissionDenied.GetPath(), Operation: k.PermissionDenied.GetOperation(),
				HintText: k.PermissionDenied.GetHint()}
		}
	}
	return nil
}

// RemoteError is an error from a backend that carried no typed detail: its
// message crossed the boundary, its type could not.
type RemoteError struct {
	Code    codes.Code
	Message string
}

func (e *RemoteError) Error() string { return e.Message }

// Hint points at the plugin's own log.
func (e *RemoteError) Hint() string {
	return "run the command again with --debug to see the plugin's log"
}

// PluginError is the plugin itself failing: it could not be launched, it
// died, it did not answer in time, or it panicked.
type PluginError struct {
	// Plugin is the plugin's path.
	Plugin string
	// Op is the operation that failed ("launch", "status", ...).
	Op string
	// Err is the cause; context.DeadlineExceeded when it did not answer in
	// time.
	Err error
	// Output is the tail of what the plugin wrote to stderr, if anything.
	Output string
}

func (e *PluginError) Error() string {
	msg := fmt.Sprintf("plugin %s: %s: %v", e.Plugin, e.Op, e.Err)
	if e.Output != "" {
		msg += "\nplugin output:\n" + e.Output
	}
	return msg
}

func (e *PluginError) Unwrap() error { return e.Err }

// Hint says where to look next: the cause's own hint, when it has one.
func (e *PluginError) Hint() string {
	if h := service.HintOf(e.Err); h != "" {
		return h
	}
	if errors.Is(e.Err, context.DeadlineExceeded) {
		return "the plugin did not answer in time; run with --debug to see what it was doing, and check the init system it drives"
	}
	return "run `" + gateway.CommandLinePluginsCheck + " " + e.Plugin + "` to test the plugin, or again with --debug to see its log"
}
