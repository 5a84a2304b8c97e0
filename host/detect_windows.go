//go:build windows

package host

// Detect picks the Service Control Manager: every Windows has it.
func (p Probe) Detect(Scope) Detection {
	return Detection{Kind: "windows", Reason: "windows: the Service Control Manager"}
}
