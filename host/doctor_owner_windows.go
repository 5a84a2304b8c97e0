//go:build windows

package host

import (
	"io/fs"
	"strconv"
)

// fileOwner is unknown on Windows: its files have ACLs, not Unix owners.
func fileOwner(fs.FileInfo) (uid, gid int, ok bool) { return 0, 0, false }

// fileInode is unknown on Windows.
func fileInode(fs.FileInfo) (uint64, bool) { return 0, false }

func userName(uid int) string  { return strconv.Itoa(uid) }
func groupName(gid int) string { return strconv.Itoa(gid) }
