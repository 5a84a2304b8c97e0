//go:build !linux && !windows

package s6

import (
	"os"
	"path/filepath"
)

// exchange swaps two folders by two renames: there is no atomic exchange
// here (the backend is meant for Linux containers).
func exchange(a, b string) error {
	side := filepath.Join(filepath.Dir(b), "."+filepath.Base(b)+".swap")
	if err := os.Rename(b, side); err != nil {
		return err
	}
	if err := os.Rename(a, b); err != nil {
		_ = os.Rename(side, b)
		return err
	}
	return os.Rename(side, a)
}
