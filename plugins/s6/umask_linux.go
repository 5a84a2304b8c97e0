package s6

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// umask is this process's file mode creation mask, read once from
// /proc/self/status (umask(2) can only be read by setting it, which would
// race with other goroutines creating files); every bit when it cannot be
// read, so that callers fchmod.
func umask() uint32 {
	return remember("umask", func() uint32 {
		f, err := os.Open("/proc/self/status")
		if err != nil {
			return 0o777
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "Umask:"); ok {
				if m, err := strconv.ParseUint(strings.TrimSpace(v), 8, 32); err == nil {
					return uint32(m)
				}
			}
		}
		return 0o777
	})
}
