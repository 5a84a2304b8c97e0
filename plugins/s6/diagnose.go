//go:build !windows

package s6

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/nousresearch/hermes-service/internal/fserr"
	"github.com/nousresearch/hermes-service/shared/gateway"
	"github.com/nousresearch/hermes-service/shared/service"
)

// Diagnose checks what registration needs: a scandir this process can
// write, an s6-svscan watching it, and each slot's supervise skeleton as
// register seeded it (a wrong mode locks an unprivileged user out of the
// slot); under s6-overlay, also that its stop waits let every slot's
// gateway drain (graceFinding).
func (b *Backend) Diagnose(ctx context.Context, opts service.DiagnoseOptions) ([]service.Finding, error) {
	dir := b.cfg.ScanDir
	var out []service.Finding
	writeErr := fserr.Writable(dir)
	if writeErr != nil {
		out = append(out, service.Finding{Check: "s6 scandir", Severity: service.SeverityError,
			Detail: dir + " is not writable: " + errText(writeErr),
			Fix:    "run as the scandir's owner, or point --scandir at one you can write"})
	} else {
		out = append(out, service.Finding{Check: "s6 scandir", Severity: service.SeverityOK, Detail: dir + " is writable"})
	}
	if err := fifoHasReader(filepath.Join(dir, ".s6-svscan", "control")); err != nil {
		out = append(out, service.Finding{Check: "s6-svscan", Severity: service.SeverityError,
			Detail: "no s6-svscan listens on " + dir + ": " + err.Error(),
			Fix:    "start one: hermes gateway supervise (or run inside s6-overlay)"})
	} else {
		out = append(out, service.Finding{Check: "s6-svscan", Severity: service.SeverityOK, Detail: "s6-svscan listens on " + dir})
	}
	profiles := opts.Profiles
	if len(profiles) == 0 {
		var err error
		if profiles, err = b.List(ctx); err != nil {
			if writeErr != nil {
				return out, nil // the scandir's finding has said what is wrong
			}
			return append(out, service.Finding{Check: "s6 slots", Severity: service.SeverityError,
				Detail: err.Error(), Fix: "check the permissions of " + dir}), nil
		}
	}
	for _, p := range profiles {
		if !b.registered(p) {
			continue
		}
		slot := b.cfg.slot(p)
		for _, d := range skeletonDirs {
			if bad := skeletonProblem(filepath.Join(slot, d)); bad != "" {
				out = append(out, service.Finding{Check: "slot " + slotName(p), Severity: service.SeverityError, Detail: bad,
					Fix: "register it again: " + gateway.CommandHint(p, "unregister") + ", then register"})
			}
		}
	}
	if b.cfg.underOverlay() {
		// Every slot, not only the profiles asked about: a container's
		// stop takes them all down.
		if f, ok := b.graceFinding(ctx); ok {
			out = append(out, f)
		}
	}
	return out, nil
}

// fifoHasReader reports, by opening it for writing without blocking,
// whether a process reads the FIFO at path: the open fails (ENXIO) when
// nobody does.
func fifoHasReader(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return err
	}
	return f.Close()
}

// skeletonProblem says how dir's supervise skeleton differs from the one
// seedSkeleton creates; "" when it does not.
func skeletonProblem(dir string) string {
	for _, e := range skeleton {
		path := filepath.Join(dir, e.rel)
		info, err := os.Lstat(path)
		if err != nil {
			return path + ": " + errText(err)
		}
		want := fileMode(e.mode) | fs.ModeDir
		if e.fifo {
			want = fileMode(e.mode) | fs.ModeNamedPipe
		}
		if info.Mode() != want {
			return fmt.Sprintf("%s has mode %v, want %v", path, info.Mode(), want)
		}
	}
	return ""
}

// errText is err without the path a *PathError repeats.
func errText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
