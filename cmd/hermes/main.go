// Command hermes keeps the Hermes messaging gateway running as an
// operating-system service. See the host package and README.md.
package main

import (
	"os"

	"github.com/nousresearch/hermes-service/host"
)

func main() { os.Exit(host.Main()) }
