//go:build darwin || freebsd || netbsd || openbsd

package plugin

import "syscall"

func statMtime(st *syscall.Stat_t) syscall.Timespec { return st.Mtimespec }
func statCtime(st *syscall.Stat_t) syscall.Timespec { return st.Ctimespec }
