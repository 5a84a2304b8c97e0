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

// SuperviseRunning is superviseRunning of the slot at path.
func SuperviseRunning(path string) (bool, error) {
	dir, err := openDirNoFollow(path)
	if err != nil {
		return false, err
	}
	defer dir.Close()
	return superviseRunning(int(dir.Fd()), path)
}
