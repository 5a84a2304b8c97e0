// Package servicev1 is the generated gRPC code for protocol version 1 of the
// hermes backend plugin protocol (service.proto beside this file).
//
// Regenerate with `make proto`; `make proto-check` proves the committed code
// is what the pinned generators produce.
package servicev1

//go:generate go run github.com/bufbuild/buf/cmd/buf@v1.75.0 generate ../../.. --template ../../../buf.gen.yaml -o ../../..
