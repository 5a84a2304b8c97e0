//go:build linux

package s6_test

import "strconv"

// strconvQuoteImpl is how the test gateway prints values (%q).
func strconvQuoteImpl(s string) string { return strconv.Quote(s) }
