//go:build unix && !linux

package homefs

import "errors"

// openBeneath is Linux's openat2; elsewhere (darwin has none) the caller
// walks the path one O_NOFOLLOW component at a time.
func openBeneath(int, string) (int, error) { return -1, errNoOpenat2 }

var errNoOpenat2 = errors.New("openat2 is Linux's")
