package service

import "context"

// Unimplemented answers every operation with an *UnsupportedError (and List
// with an empty list, as the contract asks). Embed it in a backend so that it
// keeps compiling when the contract grows, and override what you support.
type Unimplemented struct {
	// Kind is the embedding backend's kind, used in the error text.
	Kind string
}

var _ Manager = Unimplemented{}

func (u Unimplemented) unsupported(op string) error {
	return &UnsupportedError{Operation: op, Backend: u.Kind}
}

// Identify reports only the kind.
func (u Unimplemented) Identify(context.Context) (Identity, error) {
	return Identity{Kind: u.Kind}, nil
}

// Install is unsupported.
func (u Unimplemented) Install(context.Context, string, InstallOptions) error {
	return u.unsupported("install")
}

// Uninstall is unsupported.
func (u Unimplemented) Uninstall(context.Context, string) error { return u.unsupported("uninstall") }

// Start is unsupported.
func (u Unimplemented) Start(context.Context, string) error { return u.unsupported("start") }

// Stop is unsupported.
func (u Unimplemented) Stop(context.Context, string) error { return u.unsupported("stop") }

// Restart is unsupported.
func (u Unimplemented) Restart(context.Context, string) error { return u.unsupported("restart") }

// Status is unsupported.
func (u Unimplemented) Status(context.Context, string) (Status, error) {
	return Status{}, u.unsupported("status")
}

// Statuses is unsupported; the plugin server then falls back to Status.
func (u Unimplemented) Statuses(context.Context, []string) ([]Status, error) {
	return nil, u.unsupported("statuses")
}

// Register is unsupported.
func (u Unimplemented) Register(context.Context, string, RegisterOptions) error {
	return &UnsupportedError{Operation: "register", Backend: u.Kind,
		HintText: "runtime registration exists on the s6 backend only; use hermes gateway install instead"}
}

// Unregister is unsupported.
func (u Unimplemented) Unregister(context.Context, string) error {
	return &UnsupportedError{Operation: "unregister", Backend: u.Kind,
		HintText: "runtime registration exists on the s6 backend only; use hermes gateway uninstall instead"}
}

// Reconcile is unsupported.
func (u Unimplemented) Reconcile(context.Context, []Registration) error {
	return &UnsupportedError{Operation: "reconcile", Backend: u.Kind,
		HintText: "boot reconciliation exists on the s6 backend only; other service managers start gateways at boot themselves"}
}

// List is empty.
func (u Unimplemented) List(context.Context) ([]string, error) { return []string{}, nil }

// Logs is unsupported.
func (u Unimplemented) Logs(context.Context, string, LogOptions, func(LogLine) error) error {
	return u.unsupported("logs")
}

// Diagnose has no checks: an empty list.
func (u Unimplemented) Diagnose(context.Context, DiagnoseOptions) ([]Finding, error) {
	return []Finding{}, nil
}
