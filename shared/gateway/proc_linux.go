package gateway

import (
	"os"
	"strconv"
	"strings"
	"syscall"
)

// statFields reads /proc/PID/stat from field 3 on: the command name (field
// 2) may hold spaces and parentheses, so split after its last ')'.
func statFields(pid int) []string {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil
	}
	i := strings.LastIndexByte(string(data), ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(string(data[i+1:]))
}

func startTime(pid int) *int64 {
	f := statFields(pid)
	if len(f) < 20 {
		return nil
	}
	v, err := strconv.ParseInt(f[19], 10, 64) // field 22
	if err != nil {
		return nil
	}
	return &v
}

func alive(pid int) bool {
	if f := statFields(pid); f != nil {
		return f[0] != "Z" && f[0] != "X"
	}
	err := syscall.Kill(pid, 0)
	return err == nil || err == syscall.EPERM
}
