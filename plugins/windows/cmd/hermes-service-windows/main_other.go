//go:build !windows

// Command hermes-service-windows is the Windows backend plugin; elsewhere it
// only says so.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "hermes-service-windows: the Windows backend runs on Windows")
	os.Exit(78)
}
