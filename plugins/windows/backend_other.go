//go:build !windows

package windows

// The backend itself needs Windows: on other systems the package holds the
// pure logic (names, arguments, option mapping), tested everywhere.
