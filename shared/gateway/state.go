package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/nousresearch/hermes-service/internal/homefs"
)

// Keys of gateway_state.json that hermes reads or writes.
const (
	KeyGatewayState     = "gateway_state"
	KeyDesiredState     = "desired_state"
	KeyPID              = "pid"
	KeyStartTime        = "start_time"
	KeyArgv             = "argv"
	KeyKind             = "kind"
	KeyUpdatedAt        = "updated_at"
	KeyExitReason       = "exit_reason"
	KeyRestartRequested = "restart_requested"
)

// Values of gateway_state.
const (
	GatewayStarting      = "starting"
	GatewayRunning       = "running"
	GatewayDegraded      = "degraded"
	GatewayDraining      = "draining"
	GatewayStopped       = "stopped"
	GatewayStartupFailed = "startup_failed"
)

// State is what a profile's gateway_state.json says. The zero State is "no
// state": a missing, empty or corrupt file reads as that, never as an error.
type State struct {
	obj *object
}

// ReadState reads dir/gateway_state.json. The error is only for a file that
// exists but cannot be read (permissions, a symlink, over MaxFileSize);
// the State is usable regardless.
func ReadState(dir string) (State, error) {
	o, err := objectOf(readFile(dir, StateFile))
	return State{obj: o}, err
}

// Exists reports whether there was a state to read.
func (s State) Exists() bool { return s.obj != nil }

func (s State) str(key string) string {
	var v string
	if s.obj != nil {
		s.obj.get(key, &v)
	}
	return v
}

// GatewayState is gateway_state, "" when unknown.
func (s State) GatewayState() string { return s.str(KeyGatewayState) }

// DesiredState is desired_state ("running" or "stopped"), "" when unknown.
func (s State) DesiredState() string { return s.str(KeyDesiredState) }

// PID is the recorded pid, 0 when unknown.
func (s State) PID() int {
	var v int
	if s.obj != nil {
		s.obj.get(KeyPID, &v)
	}
	return v
}

// UpdatedAt is updated_at, written as an ISO string or an epoch number.
func (s State) UpdatedAt() (time.Time, bool) {
	if s.obj == nil {
		return time.Time{}, false
	}
	raw, ok := s.obj.values[KeyUpdatedAt]
	if !ok {
		return time.Time{}, false
	}
	return parseTimestamp(raw)
}

// Raw is the JSON of any field, nil when absent.
func (s State) Raw(key string) json.RawMessage {
	if s.obj == nil {
		return nil
	}
	return s.obj.values[key]
}

// Keys lists the fields in file order.
func (s State) Keys() []string {
	if s.obj == nil {
		return nil
	}
	return append([]string(nil), s.obj.keys...)
}

// now is the clock; tests pin it.
var now = time.Now

// stateLockTimeout bounds the wait for another hermes writer.
const stateLockTimeout = 5 * time.Second

// UpdateState merges fields into dir/gateway_state.json and stamps
// updated_at, atomically: other fields, known or not, keep their values and
// their order. A missing or corrupt file starts afresh. Writers in hermes
// serialise on a lock (the profile folder) so that two of them (the runner and a
// stop) never lose each other's update; the gateway itself writes without
// one, which is why a stop says the operator's intent again once the
// gateway is down.
func UpdateState(dir string, fields map[string]any) error {
	h, rel, err := openDir(dir, true)
	if err != nil {
		return fmt.Errorf("update %s: %w", StateFile, err)
	}
	defer h.Close()
	ctx, cancel := context.WithTimeout(context.Background(), stateLockTimeout)
	defer cancel()
	// The lock is the profile folder itself: no lock file that a command
	// run as root could leave unwritable for the service user (Windows,
	// which cannot lock a folder, locks .gateway_state.lock in it).
	lock, err := h.LockDir(ctx, rel, 10*time.Millisecond)
	if err != nil {
		return fmt.Errorf("update %s: another writer holds the lock: %w", StateFile, err)
	}
	defer lock.Unlock()

	file := homefs.Join(rel, StateFile)
	o, err := objectOf(h.ReadFile(file, MaxFileSize))
	if err != nil {
		return fmt.Errorf("update %s: %w", StateFile, err)
	}
	if o == nil {
		o = newObject()
	}
	for _, k := range sortedKeys(fields) {
		if err := o.put(k, fields[k]); err != nil {
			return fmt.Errorf("update %s: %w", StateFile, err)
		}
	}
	if err := o.put(KeyUpdatedAt, isoNow(now())); err != nil {
		return err
	}
	data, err := o.marshal()
	if err != nil {
		return fmt.Errorf("update %s: %w", StateFile, err)
	}
	if err := h.WriteFileAtomic(file, data, 0o644); err != nil {
		return fmt.Errorf("update %s: %w", StateFile, err)
	}
	return nil
}

// SetDesiredState records the operator's intent for the gateway of dir.
func SetDesiredState(dir, desired string) error {
	return UpdateState(dir, map[string]any{KeyDesiredState: desired})
}

// RecordDesired is what a backend calls after start, stop or restart:
// record the operator's intent for the profile at dir, best effort (the
// init system's state is what matters; the record guides the next boot).
func RecordDesired(log interface {
	Warn(msg string, args ...interface{})
}, dir, desired string) {
	if err := SetDesiredState(dir, desired); err != nil && log != nil {
		log.Warn("could not record the desired state", "dir", dir, "desired", desired, "error", err)
	}
}
