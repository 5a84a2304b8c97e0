package plugin_test

import (
	"context"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/nousresearch/hermes-service/internal/testbackend"
	"github.com/nousresearch/hermes-service/shared/plugin"
	"github.com/nousresearch/hermes-service/shared/plugintest"
	"github.com/nousresearch/hermes-service/shared/service"
)

// BenchmarkLaunch is a whole host command's plugin cost: launch, handshake,
// one Status call, close. With AutoMTLS it shows what the transport
// authentication we chose not to use would add.
func BenchmarkLaunch(b *testing.B) {
	for _, mtls := range []bool{false, true} {
		name := "plain"
		if mtls {
			name = "automtls"
		}
		b.Run(name, func(b *testing.B) {
			defer plugin.SetAutoMTLS(mtls)()
			ctx := context.Background()
			for b.Loop() {
				c, err := plugin.Launch(ctx, plugin.LaunchConfig{Path: testPlugin, Logger: hclog.NewNullLogger()})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := c.Status(ctx, "work"); err != nil {
					b.Fatal(err)
				}
				c.Close()
			}
		})
	}
}

// BenchmarkStatus is one Status call: on an established plugin connection,
// over an in-memory gRPC connection, and in process.
func BenchmarkStatus(b *testing.B) {
	ctx := context.Background()
	run := func(b *testing.B, m service.Manager) {
		for b.Loop() {
			if _, err := m.Status(ctx, "work"); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("plugin", func(b *testing.B) {
		c, err := plugin.Launch(ctx, plugin.LaunchConfig{Path: testPlugin, Logger: hclog.NewNullLogger()})
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		run(b, c)
	})
	b.Run("grpc-in-process", func(b *testing.B) { run(b, plugintest.Harness(b, testbackend.New())) })
	b.Run("in-process", func(b *testing.B) { run(b, testbackend.New()) })
}
