//go:build !windows && !darwin

package host

// Detect picks the backend for this machine: s6 inside s6-overlay, else
// systemd when a manager answers for scope, else none.
func (p Probe) Detect(scope Scope) Detection { return p.detectLinux(scope) }
