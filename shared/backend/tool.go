package backend

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"

	"github.com/nousresearch/hermes-service/shared/service"
)

// Tool is one run of an init system's tool (s6-svc, systemctl, launchctl,
// loginctl, ...).
type Tool struct {
	// Path is the program: an absolute path, or a name looked up on PATH.
	Path string
	// Args are its arguments.
	Args []string
	// Service is the slot, unit or job the call concerns ("" for none); it
	// names the service in the error.
	Service string
	// Action is how the error names what was done; "" is the program's
	// base name and its arguments.
	Action string
	// Hint is what to do when the tool ran and failed.
	Hint string
	// MissingHint is what to do when the tool could not be run at all (not
	// installed, not executable).
	MissingHint string
	// ExtraFiles are open files the tool inherits, as descriptors 3, 4, ...
	// (for a path such as /proc/self/fd/3 that no one can redirect).
	ExtraFiles []*os.File
	// SysProcAttr, when set, is how the tool is started (e.g. the account
	// it runs as).
	SysProcAttr *syscall.SysProcAttr
}

// ToolResult is what a tool printed.
type ToolResult struct {
	Stdout string
	Stderr string
	// ExitCode is the tool's exit code; -1 when it did not run or a signal
	// ended it.
	ExitCode int
}

// RunTool runs t and waits for it. A tool that fails is a
// *service.CommandFailedError carrying the action, the exit code and what
// it said on stderr (or why it could not run), with the hint; the result is
// returned either way, since some tools answer through their exit code. A
// cancelled ctx returns ctx's error.
func (b *Base) RunTool(ctx context.Context, t Tool) (ToolResult, error) {
	cmd := exec.CommandContext(ctx, t.Path, t.Args...)
	cmd.ExtraFiles, cmd.SysProcAttr = t.ExtraFiles, dieWithParent(t.SysProcAttr)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := ToolResult{Stdout: stdout.String(), Stderr: strings.TrimSpace(stderr.String()), ExitCode: 0}
	b.log.Debug("tool", "path", t.Path, "args", t.Args, "error", err, "stderr", res.Stderr)
	if err == nil {
		return res, nil
	}
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	action := t.Action
	if action == "" {
		action = strings.TrimSpace(t.Path + " " + strings.Join(t.Args, " "))
	}
	res.ExitCode = -1
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		res.ExitCode = ee.ExitCode()
		return res, &service.CommandFailedError{Service: t.Service, Action: action, ExitCode: res.ExitCode,
			Stderr: res.Stderr, HintText: t.Hint}
	}
	hint := t.MissingHint
	if hint == "" {
		hint = t.Hint
	}
	return res, &service.CommandFailedError{Service: t.Service, Action: action, ExitCode: -1,
		Stderr: err.Error(), HintText: hint}
}
