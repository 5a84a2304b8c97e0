// Package fserr words file-system errors for messages that already name
// the path: "permission denied" rather than "stat /x: permission denied",
// and finds out which error a write into a folder would meet.
package fserr

import "os"

// Writable creates dir when missing, then creates and removes a file in
// it: nil when hermes can write there, else the error it would meet.
func Writable(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".hermes-doctor-*")
	if err != nil {
		return err
	}
	tmp.Close()
	return os.Remove(tmp.Name())
}

// Reason is err without the operation and path a *os.PathError adds.
func Reason(err error) string {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err.Error()
	}
	return err.Error()
}
