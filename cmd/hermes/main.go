// Command hermes keeps the Hermes messaging gateway running as an
// operating-system service. See the host package and README.md.
package main

import (
	"os"

	// First: a command of the Hermes CLI goes to it before hermes starts.
	_ "github.com/nousresearch/hermes-service/cmd/hermes/internal/early"
	"github.com/nousresearch/hermes-service/host"
)

func main() { os.Exit(host.Main()) }
