package testbin

import (
	"os"
)

// TrustedTemp makes a fresh folder under TrustedRoot, named after pattern
// as os.MkdirTemp does, that others may enter (the fault suite's account
// runs programs from it): a place for plugins that hermes's trust checks
// accept, unlike anything under the world-writable /tmp. Remove it when
// done.
func TrustedTemp(pattern string) (string, error) {
	root, err := TrustedRoot()
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp(root, pattern)
	if err == nil {
		err = os.Chmod(dir, 0o755)
	}
	if err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	return dir, nil
}

// UseTrustedTemp points TMPDIR, and with it os.TempDir and t.TempDir, at a
// fresh TrustedTemp folder for the rest of the test binary, for tests that
// make plugin folders with t.TempDir. The binary cache stays where it was
// (Dir). Paths under it are longer than under /tmp: mind socket paths. The
// returned func removes the folder; call it once the tests are done.
func UseTrustedTemp() (func(), error) {
	if os.Getenv("HERMES_TESTBIN_CACHE") == "" {
		if err := os.Setenv("HERMES_TESTBIN_CACHE", Dir()); err != nil {
			return nil, err
		}
	}
	dir, err := TrustedTemp("tmp-")
	if err != nil {
		return nil, err
	}
	if err := os.Setenv("TMPDIR", dir); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return func() { os.RemoveAll(dir) }, nil
}
