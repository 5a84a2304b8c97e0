//go:build !windows

package plugin

// SweepSocketFolders is sweepSocketFolders, for the tests.
var SweepSocketFolders = sweepSocketFolders
