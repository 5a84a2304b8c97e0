// Command hermes-service-s6 is the s6 backend plugin; s6 runs on Linux, so
// on Windows it only says so.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "hermes-service-s6: the s6 backend runs on Linux (s6-overlay containers), not Windows")
	os.Exit(78)
}
