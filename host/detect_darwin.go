//go:build darwin

package host

// Detect picks launchd: every macOS has it.
func (p Probe) Detect(Scope) Detection {
	return Detection{Kind: "launchd", Reason: "launchd: this is macOS"}
}
