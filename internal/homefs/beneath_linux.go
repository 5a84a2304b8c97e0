package homefs

import (
	"errors"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// noOpenat2 is set once the kernel (or a seccomp filter, as older container
// runtimes have) refused openat2: older than Linux 5.6.
var noOpenat2 atomic.Bool

// openBeneath opens the folder rel below dirfd in one call, the kernel
// refusing any symlink on the way (RESOLVE_NO_SYMLINKS) and any step out of
// dirfd (RESOLVE_BENEATH). errNoOpenat2 when the kernel has no openat2.
func openBeneath(dirfd int, rel string) (int, error) {
	if noOpenat2.Load() {
		return -1, errNoOpenat2
	}
	fd, err := unix.Openat2(dirfd, rel, &unix.OpenHow{
		Flags:   unix.O_RDONLY | unix.O_DIRECTORY | unix.O_CLOEXEC | unix.O_NOFOLLOW,
		Resolve: unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS,
	})
	if errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EPERM) || errors.Is(err, unix.E2BIG) {
		noOpenat2.Store(true)
		return -1, errNoOpenat2
	}
	return fd, err
}

var errNoOpenat2 = errors.New("openat2 is not available")
