// Package fserr words file-system errors for messages that already name
// the path: "permission denied" rather than "stat /x: permission denied".
package fserr

import "os"

// Reason is err without the operation and path a *os.PathError adds.
func Reason(err error) string {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err.Error()
	}
	return err.Error()
}
