package plugin

import "syscall"

func statMtime(st *syscall.Stat_t) syscall.Timespec { return st.Mtim }
func statCtime(st *syscall.Stat_t) syscall.Timespec { return st.Ctim }
