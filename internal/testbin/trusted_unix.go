//go:build !windows

package testbin

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// TrustedRoot is a folder for tests' temporary files that hermes's plugin
// trust accepts: it and every folder above it belong to root or this user
// and are writable by nobody else, as a plugin's folders must be (the
// system's /tmp is world-writable, so a plugin under it is refused). It is
// $HERMES_TEST_TMPDIR when set, else /var/cache/hermes-test for root
// (others may enter it: the fault suite's unprivileged account does), else
// hermes-test in the user's cache folder; created when missing.
func TrustedRoot() (string, error) {
	dir := os.Getenv("HERMES_TEST_TMPDIR")
	if dir == "" && os.Geteuid() == 0 {
		dir = "/var/cache/hermes-test"
	}
	if dir == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			return "", fmt.Errorf("no folder for trusted test files: %w (set HERMES_TEST_TMPDIR)", err)
		}
		dir = filepath.Join(cache, "hermes-test")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", err
	}
	for d := real; ; d = filepath.Dir(d) {
		info, err := os.Stat(d)
		if err != nil {
			return "", err
		}
		st := info.Sys().(*syscall.Stat_t)
		if (st.Uid != 0 && int(st.Uid) != os.Getuid()) || st.Mode&0o022 != 0 {
			return "", fmt.Errorf("%s (owner uid %d, mode %04o) could hold no trusted plugin: tests need a folder that only root or "+
				"you can change all the way up to /; set HERMES_TEST_TMPDIR to one", d, st.Uid, st.Mode&0o7777)
		}
		if d == "/" {
			return real, nil
		}
	}
}
