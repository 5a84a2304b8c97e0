package plugin_test

import (
	"context"
	"net"
	"reflect"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"

	"github.com/nousresearch/hermes-service/internal/testbackend"
	"github.com/nousresearch/hermes-service/shared/plugin"
	pb "github.com/nousresearch/hermes-service/shared/proto/hermes/service/v1"
	"github.com/nousresearch/hermes-service/shared/service"
)

// TestDiagnoseCrossesTheWire checks that a real plugin process returns the
// findings, or the typed error, that the backend returns in process.
func TestDiagnoseCrossesTheWire(t *testing.T) {
	opts := func(profiles ...string) service.DiagnoseOptions {
		return service.DiagnoseOptions{Home: "/home/ada/.hermes", Hermes: "/opt/my hermes/hermes", Profiles: profiles}
	}
	tests := []struct {
		name    string
		env     string // HERMES_TESTBACKEND_DIAGNOSE
		opts    service.DiagnoseOptions
		wantErr error  // nil: what the backend returns in process
		errText string // for errors with no in-process twin
	}{
		{name: "all fine", opts: opts()},
		{name: "every severity", env: "fail", opts: opts("work", "default")},
		{name: "typed error", opts: opts("work", "cmdfail")},
		{name: "invalid profile", opts: opts("Coder"), wantErr: service.ValidateProfile("Coder")},
		{name: "panic", opts: opts("panic"), errText: "panicked during diagnose"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			t.Setenv("HERMES_TESTBACKEND_DIAGNOSE", tt.env)
			c := launch(t, plugin.LaunchConfig{})
			got, err := c.Diagnose(ctx, tt.opts)
			if tt.errText != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errText) {
					t.Fatalf("got %v, want %q", err, tt.errText)
				}
				return
			}
			want, wantErr := testbackend.New().Diagnose(ctx, tt.opts)
			if tt.wantErr != nil {
				wantErr = tt.wantErr
			}
			if !reflect.DeepEqual(err, wantErr) {
				t.Fatalf("error over the wire: %T %#v\nin process:          %T %#v", err, err, wantErr, wantErr)
			}
			if wantErr == nil && !reflect.DeepEqual(got, want) {
				t.Fatalf("over the wire: %#v\nin process:    %#v", got, want)
			}
		})
	}
}

// diagnoser is a backend whose Diagnose returns fixed findings.
type diagnoser struct {
	service.Unimplemented
	found []service.Finding
}

func (d diagnoser) Diagnose(context.Context, service.DiagnoseOptions) ([]service.Finding, error) {
	return d.found, nil
}

// TestDiagnoseDefaults checks what the host sees from backends that say
// little: no checks, a severity left out, a plugin older than the RPC.
func TestDiagnoseDefaults(t *testing.T) {
	tests := []struct {
		name    string
		manager func(t *testing.T) service.Manager
		want    []service.Finding
	}{
		{name: "Unimplemented has no checks", manager: inMemoryFor(service.Unimplemented{Kind: "hello"}),
			want: []service.Finding{}},
		{name: "a missing severity is a warning", manager: inMemoryFor(diagnoser{found: []service.Finding{
			{Check: "a", Severity: service.SeverityError, Detail: "bad", Fix: "mend it"},
			{Check: "b", Detail: "no severity"},
			{Check: "c", Severity: service.SeverityOK, Detail: "fine"},
		}}), want: []service.Finding{
			{Check: "a", Severity: service.SeverityError, Detail: "bad", Fix: "mend it"},
			{Check: "b", Severity: service.SeverityWarning, Detail: "no severity"},
			{Check: "c", Severity: service.SeverityOK, Detail: "fine"},
		}},
		{name: "a plugin without the RPC has no checks", manager: withoutDiagnose, want: []service.Finding{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.manager(t).Diagnose(context.Background(), service.DiagnoseOptions{Home: "/h"})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func inMemoryFor(backend service.Manager) func(t *testing.T) service.Manager {
	return func(t *testing.T) service.Manager {
		m, closeIt := inMemory(backend)
		t.Cleanup(closeIt)
		return m
	}
}

// withoutDiagnose is a host connected to a server that predates Diagnose:
// every RPC answers Unimplemented, with no typed error.
func withoutDiagnose(t *testing.T) service.Manager {
	lis := bufconn.Listen(1 << 20)
	srv := grpc.NewServer()
	pb.RegisterManagerServiceServer(srv, pb.UnimplementedManagerServiceServer{})
	go func() { _ = srv.Serve(lis) }()
	conn, err := grpc.NewClient("passthrough:///old",
		grpc.WithContextDialer(func(context.Context, string) (net.Conn, error) { return lis.Dial() }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(); srv.Stop() })
	return plugin.NewClient(pb.NewManagerServiceClient(conn))
}
