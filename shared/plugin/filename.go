package plugin

import "strings"

// FilePrefix starts every backend plugin's file name, and the name of the
// package that ships it: hermes-service-<kind>.
const FilePrefix = "hermes-service-"

// FileName is the file name of the plugin for kind on goos (a GOOS value):
// hermes-service-<kind>, with .exe on Windows. The host looks for plugins by
// this name and the release names what it builds by it.
func FileName(kind, goos string) string { return FilePrefix + kind + exeSuffix(goos) }

// KindFromFileName reads the kind back out of a plugin's file name on goos.
// ok is false for a name that does not follow FileName's rule: another
// prefix, no .exe on Windows, or no kind at all.
func KindFromFileName(name, goos string) (kind string, ok bool) {
	rest, ok := strings.CutPrefix(name, FilePrefix)
	if !ok {
		return "", false
	}
	if suffix := exeSuffix(goos); suffix != "" {
		if rest, ok = strings.CutSuffix(rest, suffix); !ok {
			return "", false
		}
	}
	return rest, rest != ""
}

// exeSuffix is what executables end with on goos.
func exeSuffix(goos string) string {
	if goos == "windows" {
		return ".exe"
	}
	return ""
}
