package host

import (
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// reconcileNice is the nice value reconcile runs at when root. At container
// start a reconcile has s6 start every gateway at its end: a thousand
// supervisors and gateways then share two cores with hermes's last steps
// (the plugin's reply, the audit log, the processes' exit), which waited
// behind them for 300-500 ms more than hermes's own 150-200 ms of work.
// The gateways do not inherit it: s6-svscan, not hermes, starts them.
const reconcileNice = -10

// raisePriority gives this process (and the plugin it launches next) the
// nice value reconcileNice, when it is root and runs at a lower priority;
// best effort.
func raisePriority() {
	if os.Geteuid() != 0 {
		return
	}
	// Linux's getpriority(2) returns 20 - nice.
	raw, err := unix.Getpriority(unix.PRIO_PROCESS, 0)
	if err != nil || 20-raw <= reconcileNice {
		return
	}
	// Linux keeps a nice value per thread, and a new thread or process
	// takes its creator's: every thread of this process is raised (a second
	// pass for one made meanwhile), so that whichever thread starts the
	// plugin passes the value on.
	for range 2 {
		tasks, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return
		}
		for _, t := range tasks {
			if tid, err := strconv.Atoi(t.Name()); err == nil {
				_ = unix.Setpriority(unix.PRIO_PROCESS, tid, reconcileNice)
			}
		}
	}
}
