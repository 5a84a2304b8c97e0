package gateway

import (
	"errors"
	"io/fs"
	"maps"
	"os"
	"slices"

	"github.com/nousresearch/hermes-service/internal/homefs"
)

// Every file of a profile's folder is reached through internal/homefs:
// from the home's root without following a symlink, made and rewritten
// for the home's owner whoever runs hermes, read up to MaxFileSize.

// MaxFileSize is the most hermes reads of a state file, marker or pid
// record: a larger one is refused from its size, unread.
const MaxFileSize = homefs.MaxFileSize

// openDir opens the home holding the profile folder dir and returns the
// folder's path below its root. For a write (create) a missing root is
// made; the profile's folder is made by the write itself.
func openDir(dir string, create bool) (*homefs.Home, string, error) {
	return homefs.OpenProfile(dir, create)
}

// ReadFile reads the file name of the profile folder dir as hermes reads
// its own: never through a symlink, never past MaxFileSize. A missing file
// (or home) matches fs.ErrNotExist.
func ReadFile(dir, name string) ([]byte, error) { return readFile(dir, name) }

// readFile reads name in the profile folder dir, capped; a missing file
// (or home) matches fs.ErrNotExist.
func readFile(dir, name string) ([]byte, error) {
	h, rel, err := openDir(dir, false)
	if err != nil {
		return nil, err
	}
	defer h.Close()
	return h.ReadFile(homefs.Join(rel, name), MaxFileSize)
}

// writeFile replaces name in the profile folder dir atomically, making
// the folder when missing; a rewrite keeps the file's mode and owner.
func writeFile(dir, name string, data []byte, mode os.FileMode) error {
	h, rel, err := openDir(dir, true)
	if err != nil {
		return err
	}
	defer h.Close()
	return h.WriteFileAtomic(homefs.Join(rel, name), data, mode)
}

// removeFile removes name from the profile folder dir; a missing one is
// no error.
func removeFile(dir, name string) error {
	h, rel, err := openDir(dir, false)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer h.Close()
	if err := h.Remove(homefs.Join(rel, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

func sortedKeys(m map[string]any) []string {
	return slices.Sorted(maps.Keys(m))
}
