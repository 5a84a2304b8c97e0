//go:build !linux && !windows

package main

import (
	"context"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// readCmdline is _read_process_cmdline without /proc: ps, as upstream falls
// back to; "" when it cannot be read.
func readCmdline(pid int) string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ps", "-p", strconv.Itoa(pid), "-o", "command=").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}
