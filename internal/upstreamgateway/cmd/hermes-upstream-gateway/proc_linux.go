package main

import (
	"os"
	"strconv"
	"strings"
)

// readCmdline is _read_process_cmdline: the live command line, "" when it
// cannot be read.
func readCmdline(pid int) string {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(strings.ReplaceAll(string(raw), "\x00", " "))
}
