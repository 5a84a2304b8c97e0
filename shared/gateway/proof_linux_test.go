package gateway

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestProve: only a record naming a live pid with its start time, beside a
// lock that pid holds, proves a gateway; every lesser record is refused
// with its reason, and probing creates nothing.
func TestProve(t *testing.T) {
	sleep := exec.Command("sleep", "60")
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sleep.Process.Kill(); _ = sleep.Wait() })
	other := sleep.Process.Pid
	otherStart := StartTime(other)
	self := os.Getpid()
	selfStart := StartTime(self)
	if otherStart == nil || selfStart == nil {
		t.Fatal("no start times on Linux")
	}
	record := func(pid int, start *int64, home string) string {
		st := "null"
		if start != nil {
			st = fmt.Sprint(*start)
		}
		return fmt.Sprintf(`{"pid": %d, "kind": "hermes-gateway", "argv": [], "start_time": %s, "hermes_home": %q}`, pid, st, home)
	}
	wrong := int64(1)
	tests := []struct {
		name string
		pid  func(dir string) string // the pid file's content, "" for none
		lock string                  // "none", "free", "held", "link"
		link bool                    // the pid file is a symlink to a good record
		want string                  // "" proven, else a part of the reason
	}{
		{name: "no record", pid: func(string) string { return "" }, lock: "held", want: "no gateway.pid"},
		{name: "bare pid", pid: func(string) string { return fmt.Sprint(other) }, lock: "held", want: "records no start time"},
		{name: "no start time", pid: func(d string) string { return record(other, nil, d) }, lock: "held", want: "records no start time"},
		{name: "wrong start time", pid: func(d string) string { return record(other, &wrong, d) }, lock: "held", want: "now belongs to another process"},
		{name: "dead pid", pid: func(d string) string { return record(999999, &wrong, d) }, lock: "held", want: "process 999999 is gone"},
		{name: "another home", pid: func(string) string { return record(self, selfStart, "/somewhere/else") }, lock: "held", want: "belongs to the home /somewhere/else"},
		{name: "no lock file", pid: func(d string) string { return record(self, selfStart, d) }, lock: "none", want: "there is no gateway.lock"},
		{name: "lock free", pid: func(d string) string { return record(self, selfStart, d) }, lock: "free", want: "no process holds gateway.lock"},
		{name: "lock is a link", pid: func(d string) string { return record(self, selfStart, d) }, lock: "link", want: "gateway.lock is not a regular file (a symlink)"},
		{name: "record is a link", pid: func(d string) string { return record(self, selfStart, d) }, lock: "held", link: true, want: "gateway.pid is not a regular file (a symlink)"},
		{name: "lock held by another process", pid: func(d string) string { return record(other, otherStart, d) }, lock: "held", want: "does not hold gateway.lock open"},
		{name: "proven", pid: func(d string) string { return record(self, selfStart, d) }, lock: "held"},
		{name: "proven without a home", pid: func(string) string { return record(self, selfStart, "") }, lock: "held"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if content := tt.pid(dir); content != "" {
				target := filepath.Join(dir, PIDFile)
				if tt.link {
					target = filepath.Join(t.TempDir(), "elsewhere.pid")
					if err := os.Symlink(target, filepath.Join(dir, PIDFile)); err != nil {
						t.Fatal(err)
					}
				}
				if err := os.WriteFile(target, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			switch tt.lock {
			case "free":
				if err := os.WriteFile(filepath.Join(dir, LockFile), nil, 0o644); err != nil {
					t.Fatal(err)
				}
			case "held":
				l, ok, err := Upstream.TryLock(dir)
				if err != nil || !ok {
					t.Fatalf("lock: %v %v", ok, err)
				}
				t.Cleanup(func() { _ = l.Unlock() })
			case "link":
				held := t.TempDir()
				l, ok, err := Upstream.TryLock(held)
				if err != nil || !ok {
					t.Fatalf("lock: %v %v", ok, err)
				}
				t.Cleanup(func() { _ = l.Unlock() })
				if err := os.Symlink(filepath.Join(held, LockFile), filepath.Join(dir, LockFile)); err != nil {
					t.Fatal(err)
				}
			}
			before, _ := os.ReadDir(dir)
			rec, err := Upstream.Prove(dir)
			after, _ := os.ReadDir(dir)
			if len(after) != len(before) {
				t.Errorf("Prove changed the folder: %d entries, then %d", len(before), len(after))
			}
			if tt.want == "" {
				if err != nil || rec == nil || rec.PID != self {
					t.Fatalf("Prove = %v, %v; want the record of PID %d", rec, err, self)
				}
				return
			}
			var u *Unproven
			if !errors.As(err, &u) || rec != nil {
				t.Fatalf("Prove = %v, %v; want *Unproven", rec, err)
			}
			if !strings.Contains(u.Reason, tt.want) {
				t.Errorf("reason %q, want %q in it", u.Reason, tt.want)
			}
			if u.NoRecord != (tt.name == "no record") {
				t.Errorf("NoRecord = %v", u.NoRecord)
			}
		})
	}
}
