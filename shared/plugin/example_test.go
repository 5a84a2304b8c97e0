package plugin_test

import (
	"context"
	"errors"
	"fmt"
	"net"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"

	"github.com/nousresearch/hermes-service/shared/plugin"
	pb "github.com/nousresearch/hermes-service/shared/proto/hermes/service/v1"
	"github.com/nousresearch/hermes-service/shared/service"
)

// hello is a complete backend. It embeds service.Unimplemented, so whatever
// it does not override answers "unsupported", and overrides what it can do.
type hello struct {
	service.Unimplemented
}

func newHello() hello { return hello{service.Unimplemented{Kind: "hello"}} }

func (hello) Identify(context.Context) (service.Identity, error) {
	return service.Identity{Kind: "hello", Version: "v1.0.0"}, nil
}

func (hello) Status(_ context.Context, profile string) (service.Status, error) {
	return service.Status{Profile: profile, State: service.StateStopped, Detail: "hello never runs anything"}, nil
}

// A backend plugin's whole main is one line; build it as hermes-service-hello
// and put it on HERMES_PLUGIN_PATH:
//
//	func main() { plugin.Serve(newHello()) }
//
// This example runs the same server over an in-memory connection instead of
// a plugin process, to show what the host sees.
func Example() {
	ctx := context.Background()
	m, closeConn := inMemory(newHello())
	defer closeConn()

	st, _ := m.Status(ctx, "work")
	fmt.Println(st.Profile, st.Backend, st.State)

	err := m.Register(ctx, "work", service.RegisterOptions{})
	fmt.Println(errors.Is(err, service.ErrUnsupported), err)

	var invalid *service.InvalidProfileError
	err = m.Start(ctx, "Work")
	fmt.Println(errors.As(err, &invalid), invalid.Reason)
	// Output:
	// work hello stopped
	// true the hello backend does not support register
	// true it contains upper-case letters
}

// inMemory connects a host-side Manager to a backend over an in-memory gRPC
// connection.
func inMemory(backend service.Manager) (service.Manager, func()) {
	lis := bufconn.Listen(1 << 20)
	srv := grpc.NewServer()
	pb.RegisterManagerServiceServer(srv, plugin.NewServer(backend, nil))
	go func() { _ = srv.Serve(lis) }()
	conn, err := grpc.NewClient("passthrough:///hello",
		grpc.WithContextDialer(func(context.Context, string) (net.Conn, error) { return lis.Dial() }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		panic(err)
	}
	return plugin.NewClient(pb.NewManagerServiceClient(conn)), func() { conn.Close(); srv.Stop() }
}
