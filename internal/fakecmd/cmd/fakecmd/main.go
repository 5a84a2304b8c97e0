// Command fakecmd stands in for an init system's tools in tests (systemctl,
// loginctl, journalctl, launchctl, ...): link or copy it under the tool's
// name, first on PATH. It appends its argv, as one JSON array per line, to
// $FAKECMD_LOG, and answers from the scripted replies in $FAKECMD_SCRIPT
// (see package fakecmd): the first reply whose argv pattern matches wins;
// none matching is a silent success.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/nousresearch/hermes-service/internal/fakecmd"
)

func main() {
	argv := append([]string{filepath.Base(os.Args[0])}, os.Args[1:]...)
	if path := os.Getenv("FAKECMD_LOG"); path != "" {
		line, _ := json.Marshal(argv)
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err == nil {
			_, _ = f.Write(append(line, '\n'))
			f.Close()
		}
	}
	replies, err := fakecmd.Load(os.Getenv("FAKECMD_SCRIPT"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "fakecmd:", err)
		os.Exit(99)
	}
	r := fakecmd.Match(replies, argv)
	if r == nil {
		return
	}
	fmt.Fprint(os.Stdout, r.Stdout)
	fmt.Fprint(os.Stderr, r.Stderr)
	if r.Hold {
		time.Sleep(time.Hour) // a follow: runs until killed
	}
	os.Exit(r.Exit)
}
