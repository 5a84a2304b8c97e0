//go:build linux

package s6

// Test access to the status readers, for the differential test.
var (
	ReadStatusFile = readStatusFile
	ParseSvstat    = parseSvstat
	SvstatFields   = svstatFields
)

// SvStatus is svStatus for the external tests.
type SvStatus = svStatus
