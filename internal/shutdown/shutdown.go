// Package shutdown tells a service manager going down (a shutdown, a
// reboot, a user's logout) from one stopping a single service: a unit's
// stop hook runs for both, and only the second is an operator's stop.
package shutdown

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// Scope is which systemd manager: the system's or a user's.
type Scope string

const (
	System Scope = "system"
	User   Scope = "user"
)

// ParseScope reads a scope's name.
func ParseScope(s string) (Scope, error) {
	switch sc := Scope(s); sc {
	case System, User:
		return sc, nil
	}
	return "", fmt.Errorf("unknown service manager scope %q: want %s or %s", s, System, User)
}

// systemctl is systemd's control tool; stateStopping is what
// `systemctl is-system-running` prints while the manager goes down.
const (
	systemctl     = "systemctl"
	stateStopping = "stopping"
)

// askTimeout bounds the question: a stop hook must never hang a stop.
const askTimeout = 5 * time.Second

// SystemdStopping reports whether the systemd manager of scope is going
// down. is-system-running exits non-zero for every state but "running" and
// still prints the state, so only no answer at all is an error.
func SystemdStopping(ctx context.Context, scope Scope) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, askTimeout)
	defer cancel()
	args := []string{"is-system-running"}
	if scope == User {
		args = append([]string{"--user"}, args...)
	}
	out, err := exec.CommandContext(ctx, systemctl, args...).Output()
	state := strings.TrimSpace(string(out))
	if state == "" {
		if err == nil {
			err = errors.New("no answer")
		}
		return false, fmt.Errorf("ask the %s manager whether it is going down (%s %s): %w", scope, systemctl, strings.Join(args, " "), err)
	}
	return state == stateStopping, nil
}
