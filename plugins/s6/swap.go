//go:build !windows

package s6

import (
	"os"
	"path/filepath"
)

// swapByRenames swaps two folders in three renames, through a side name;
// the slot is briefly missing, which is why Linux uses RENAME_EXCHANGE.
func swapByRenames(a, b string) error {
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
