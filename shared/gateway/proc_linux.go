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

// bootID is the kernel's id of this boot, "" when unreadable.
func bootID() string {
	data, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(data))
}

// groupMembers lists the live processes (zombies excluded) whose process
// group is pgid, from /proc; ok is false when /proc cannot be read.
func groupMembers(pgid int) (members []member, ok bool) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, false
	}
	want := strconv.Itoa(pgid)
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		f := statFields(pid)
		// f[0] is the state (field 3), f[2] the group (field 5), f[19] the
		// start time (field 22).
		if len(f) < 20 || f[2] != want || f[0] == "Z" || f[0] == "X" {
			continue
		}
		start, err := strconv.ParseInt(f[19], 10, 64)
		if err != nil {
			continue
		}
		members = append(members, member{pid: pid, start: start})
	}
	return members, true
}
