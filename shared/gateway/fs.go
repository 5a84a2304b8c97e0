package gateway

import (
	"os"
	"sort"
)

func ensureDir(dir string) error { return os.MkdirAll(dir, 0o755) }

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
