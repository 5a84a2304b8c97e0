// Package faultsuite is the privilege-boundary fault suite (tests only):
// an unprivileged service user owns a Hermes home and plants what an
// attacker with that account could (symlinks, control characters, stale
// pid records, oversized files, hostile plugin folders), then hermes runs
// as root beside it, as it does in upstream's container image and under
// sudo. Every case asserts the same things: refused or done safely,
// nothing written outside the home, nothing root-owned left inside it, and
// the documented exit code.
//
// It runs as root (make fault, which make test runs, uses sudo when
// needed) with the account ServiceUser, which make deps creates.
package faultsuite

// ServiceUser is the unprivileged account the suite plays the gateway's
// user with, as uid 10000 `hermes` is in upstream's image.
const ServiceUser = "hermes-fault"
