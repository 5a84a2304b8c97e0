package gateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// ChildGroup is RunnerGroupFile: the process group a plain-protocol
// runner's gateway leads (the runner starts it with a group of its own).
//
// The kernel ends the gateway itself when its runner dies (the parent-death
// signal, Linux), but not what the gateway started: those stay in its group,
// and a runner killed by SIGKILL cannot end them. So the runner records the
// group while its gateway runs, and the next runner ends what is left of it
// (Leftover) before it starts its own gateway: a profile never runs two.
type ChildGroup struct {
	// PGID is the group's id: the gateway's pid.
	PGID int `json:"pgid"`
	// StartTime is the gateway's start time (StartTime), which tells the
	// group from a later one that got the same number.
	StartTime *int64 `json:"start_time"`
	// BootID is the kernel's boot id where it has one: start times count
	// from the boot, so a record from before a reboot proves nothing.
	BootID string `json:"boot_id,omitempty"`
	// RunnerPID is the runner that wrote the record, for the log.
	RunnerPID int `json:"runner_pid"`
}

// NewChildGroup describes the group led by pid, started by this process.
func NewChildGroup(pid int) ChildGroup {
	return ChildGroup{PGID: pid, StartTime: StartTime(pid), BootID: bootID(), RunnerPID: os.Getpid()}
}

// WriteChildGroup replaces the runner's group record in dir atomically.
func WriteChildGroup(dir string, g ChildGroup) error {
	data, err := json.Marshal(g)
	if err != nil {
		return err
	}
	return writeFile(dir, RunnerGroupFile, data, 0o644)
}

// ReadChildGroup reads the runner's group record in dir: nil, and no error,
// when there is none or it is no record (corrupt, no pgid); an error only
// for a file that exists but cannot be read (a symlink, too large).
func ReadChildGroup(dir string) (*ChildGroup, error) {
	data, err := readFile(dir, RunnerGroupFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var g ChildGroup
	if json.Unmarshal(data, &g) != nil || g.PGID <= 0 {
		return nil, nil
	}
	return &g, nil
}

// RemoveChildGroup removes the runner's group record in dir if it still
// names pgid (a newer runner may have written its own).
func RemoveChildGroup(dir string, pgid int) error {
	g, err := ReadChildGroup(dir)
	if err != nil || g == nil || g.PGID != pgid {
		return err
	}
	return removeFile(dir, RunnerGroupFile)
}

// Leftover lists the live processes of the recorded group, when this
// machine can prove they are that group: why says, when it lists none, why
// (nothing left, or nothing proven). It signals nothing.
//
// What proves it (Linux, from /proc): a pid number stays taken while any
// process has it as its group id, so while the group has a member its
// number cannot have been handed to a later process. The recorded leader
// must therefore be either gone or the very process recorded (its start
// time); every member must have started no earlier than that leader, since
// each was forked from within the group after it began; and the record
// must come from this boot. A group number reused after the old group
// emptied fails one of these (its new leader is alive with another start
// time, or older processes sit in it) except when the reusing leader is
// itself gone again and left only processes younger than the record's
// leader: that takes the pid space wrapping around inside the time between
// two runners, and is accepted. Where the platform cannot list a group or
// tell start times, nothing is proven.
func (g ChildGroup) Leftover() (pids []int, why string) {
	switch {
	case g.PGID <= 1:
		return nil, fmt.Sprintf("process group %d is no gateway's", g.PGID)
	case g.StartTime == nil:
		return nil, "the record has no start time to tell the group from a later one"
	}
	if cur := bootID(); g.BootID != "" && cur != "" && cur != g.BootID {
		return nil, "the record was written before the machine last started"
	}
	if cur := StartTime(g.PGID); cur != nil && *cur != *g.StartTime {
		return nil, fmt.Sprintf("PID %d now belongs to another process (start time %d, recorded %d), so the group is gone", g.PGID, *cur, *g.StartTime)
	}
	members, ok := groupMembers(g.PGID)
	if !ok {
		return nil, "process groups cannot be listed here"
	}
	for _, m := range members {
		if m.start < *g.StartTime {
			return nil, fmt.Sprintf("process %d in group %d started before the recorded gateway, so the group is another one", m.pid, g.PGID)
		}
		pids = append(pids, m.pid)
	}
	if len(pids) == 0 {
		return nil, fmt.Sprintf("nothing of process group %d is left", g.PGID)
	}
	return pids, ""
}

// GroupAlive reports whether any live process (no zombie) is in group pgid;
// where groups cannot be listed, false.
func GroupAlive(pgid int) bool {
	members, _ := groupMembers(pgid)
	return len(members) > 0
}

// member is a live process of a group, with its start time.
type member struct {
	pid   int
	start int64
}
