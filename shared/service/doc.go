// Package service is the contract between the hermes host and its backends.
//
// A backend keeps a profile's Hermes gateway running under one init system
// (s6, systemd, launchd, the Windows Service Control Manager, or one of your
// own). It implements [Manager]; the host drives every backend through that
// one interface, whether the backend runs in the same process (tests) or in a
// plugin binary reached over gRPC (production, see package
// github.com/nousresearch/hermes-service/shared/plugin).
//
// The errors in this package are part of the contract: they keep their type
// and fields across the plugin boundary, so a host can branch on them with
// [errors.As] and [errors.Is] exactly as the backend returned them.
//
// The Hermes home a backend works on is the HERMES_HOME environment variable
// of its process; the host always sets it when it launches a plugin.
package service
