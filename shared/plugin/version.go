package plugin

import "runtime/debug"

// BuildVersion is a plugin's version for Identify: v when the build set it
// (-ldflags -X), else the module version Go recorded, else "(devel)".
func BuildVersion(v string) string {
	if v != "" {
		return v
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}
