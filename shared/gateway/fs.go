package gateway

import (
	"maps"
	"os"
	"slices"
)

func ensureDir(dir string) error { return os.MkdirAll(dir, 0o755) }

func sortedKeys(m map[string]any) []string {
	return slices.Sorted(maps.Keys(m))
}
