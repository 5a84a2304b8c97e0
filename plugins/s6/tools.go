//go:build !windows

package s6

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/nousresearch/hermes-service/shared/backend"
	"github.com/nousresearch/hermes-service/shared/gateway"
	"github.com/nousresearch/hermes-service/shared/service"
)

// runTool runs t, the s6 tool name; a failure is a
// *service.CommandFailedError naming the action, the exit code and what
// the tool said, with the real paths written back for the pinned ones it
// was given (real: pinned path -> real path).
func (b *Backend) runTool(ctx context.Context, t backend.Tool, name string, real map[string]string) (string, error) {
	t.Action = strings.TrimSpace(name + " " + strings.Join(flagsOf(t.Args), " "))
	t.MissingHint = "install s6 (apt-get install s6), or point " + gateway.EnvS6BinDir + " at the folder that holds " + name
	res, err := b.RunTool(ctx, t)
	var cf *service.CommandFailedError
	if errors.As(err, &cf) {
		for pin, path := range real {
			cf.Stderr = strings.ReplaceAll(cf.Stderr, pin, path)
		}
	}
	return res.Stdout, err
}

// runOnSlot runs an s6 tool (s6-svc, s6-svwait, s6-svstat) on the
// profile's slot, given last. The tool is given the slot as the folder
// this process opened, no link followed (pinned), so that no one can swap
// it for another between this check and the tool's open. As root, when
// the slot, its supervise or its event folder belongs to another account
// (the service user, to whom seedSkeleton hands supervise and event), the
// tool runs as that account: what it opens in there, that account can
// change at any time, and so it opens it with no more right than its
// owner has.
func (b *Backend) runOnSlot(ctx context.Context, profile, name string, args ...string) (string, error) {
	return b.runInSlot(ctx, profile, "", name, args...)
}

// runInSlot is runOnSlot on the folder sub of the slot ("" the slot
// itself, "log" its logger), opened from the slot without following links.
func (b *Backend) runInSlot(ctx context.Context, profile, sub, name string, args ...string) (string, error) {
	slot, err := b.cfg.openSlot(profile)
	if err != nil {
		return "", err
	}
	defer slot.Close()
	dir := slot
	if sub != "" {
		if dir, err = openDirAt(slot, sub); err != nil {
			return "", err
		}
		defer dir.Close()
	}
	attr, err := ownerAttr(dir, "supervise", "event")
	if err != nil {
		return "", err
	}
	if name != "s6-svc" {
		// s6-svstat and s6-svwait read supervise/status with a blocking
		// open: a FIFO there would hang them (and this command) for good.
		if err := statusReadable(dir); err != nil {
			return "", err
		}
	}
	path := filepath.Join(b.cfg.slot(profile), sub)
	arg, extra := pinned(dir)
	return b.runTool(ctx, backend.Tool{Path: b.cfg.tool(name), Args: append(args, arg), Service: slotName(profile),
		ExtraFiles: extra, SysProcAttr: attr}, name, map[string]string{arg: path})
}

// svscanctl sends s6-svscan the commands in flags (s6-svscanctl -a, -an).
// s6-svscanctl writes into <scandir>/.s6-svscan/control, and the scandir
// may belong to another account, which could put a link there: it is
// given a private folder whose .s6-svscan is the folder this process
// opened (pinned), and runs as that folder's owner when it is not root.
// With no .s6-svscan there is no s6-svscan to tell, and nothing is run.
func (b *Backend) svscanctl(ctx context.Context, slot, flags string) error {
	scan, err := b.cfg.openScanDir()
	if err != nil {
		return err
	}
	defer scan.Close()
	ctl, err := openDirAt(scan, ".s6-svscan")
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) && errors.Is(pe.Err, unix.ENOENT) {
			return &service.CommandFailedError{Service: slot, Action: "s6-svscanctl " + flags, ExitCode: 111,
				Stderr: "s6-svscanctl: fatal: unable to control " + b.cfg.ScanDir + ": supervisor not listening (no .s6-svscan)"}
		}
		return err
	}
	defer ctl.Close()
	attr, err := ownerAttr(ctl)
	if err != nil {
		return err
	}
	dir, extra, cleanup, err := pinnedScanDir(ctl)
	if err != nil {
		return err
	}
	defer cleanup()
	_, err = b.runTool(ctx, backend.Tool{Path: b.cfg.tool("s6-svscanctl"), Args: []string{flags, dir}, Service: slot,
		ExtraFiles: extra, SysProcAttr: attr}, "s6-svscanctl", map[string]string{dir: b.cfg.ScanDir})
	return err
}

// ownerAttr is how to start a tool that works in dir and in its entries
// names: as this process, unless it is root and dir or one of those
// belongs to another account, whose uid and gid it then takes (the first
// found). An entry that is a link is refused.
func ownerAttr(dir *os.File, names ...string) (*syscall.SysProcAttr, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	st, err := fstat(dir)
	if err != nil {
		return nil, err
	}
	owner := st
	for _, name := range names {
		sub, ok, err := lstatAt(dir, name)
		if err != nil {
			return nil, &os.PathError{Op: "lstat", Path: filepath.Join(dir.Name(), name), Err: err}
		}
		if ok && isType(sub, unix.S_IFLNK) {
			return nil, &unsafeError{Path: filepath.Join(dir.Name(), name), Reason: "it is a symbolic link"}
		}
		if ok && owner.Uid == 0 {
			owner = sub
		}
	}
	if owner.Uid == 0 {
		return nil, nil
	}
	return &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: owner.Uid, Gid: owner.Gid}}, nil
}

// statusReadable refuses a slot whose supervise/status is there and no
// regular file (a FIFO, a link): s6's tools would block on it or follow
// it.
func statusReadable(slot *os.File) error {
	parent, name, err := walkAt(slot, "supervise/status")
	if err != nil || parent == nil {
		return err
	}
	defer parent.Close()
	st, ok, err := lstatAt(parent, name)
	if err != nil {
		return &os.PathError{Op: "lstat", Path: filepath.Join(parent.Name(), name), Err: err}
	}
	if ok && !isType(st, unix.S_IFREG) {
		return &unsafeError{Path: filepath.Join(parent.Name(), name), Reason: "it is not a regular file"}
	}
	return nil
}

// flagsOf keeps the options of an argument list, for naming the action.
func flagsOf(args []string) []string {
	var out []string
	for _, a := range args {
		if strings.HasPrefix(a, "-") {
			out = append(out, a)
		}
	}
	return out
}
