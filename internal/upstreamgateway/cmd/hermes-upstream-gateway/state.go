package main

import (
	"errors"
	"path/filepath"
	"strings"
	"time"

	"github.com/nousresearch/hermes-service/internal/atomicfile"
	"github.com/nousresearch/hermes-service/internal/upstreamgateway"
	"github.com/nousresearch/hermes-service/shared/gateway"
)

// Keys the gateway writes that shared/gateway has no name for (they are
// upstream's and nobody in hermes reads them).
const (
	keyKind          = "kind"
	keyArgv          = "argv"
	keyStartTime     = "start_time"
	keyHermesHome    = "hermes_home"
	keyActiveAgents  = "active_agents"
	keyPlatforms     = "platforms"
	keySessionStore  = "session_store"
	keyWriterPID     = "writer_pid"
	keyWriterStart   = "writer_start_time"
	keyPlatformState = "state"
	keyErrorCode     = "error_code"
	keyErrorMessage  = "error_message"
)

// kv is one field of an update, in the order upstream applies them.
type kv struct {
	key   string
	value any
}

// stateWriter writes the gateway's runtime fields of gateway_state.json,
// with no lock, in one of upstream's two ways (upstreamgateway.WriterRMW,
// upstreamgateway.WriterSnapshot).
type stateWriter struct {
	path     string
	mode     string
	gap      time.Duration // pause between reading and writing, to widen the race on purpose
	identity identity
	snapshot *object
}

// freshRecord is _build_runtime_status_record: what a gateway writes when
// there is no readable file.
func (w *stateWriter) freshRecord() *object {
	o := newObject()
	o.put(gateway.KeyPID, w.identity.pid)
	o.put(keyKind, gateway.PIDKind)
	o.put(keyArgv, w.identity.argv)
	o.put(keyStartTime, w.identity.startTime)
	o.put(keyHermesHome, w.identity.home)
	o.put(gateway.KeyGatewayState, gateway.GatewayStarting)
	o.put(gateway.KeyExitReason, nil)
	o.put(gateway.KeyRestartRequested, false)
	o.put(keyActiveAgents, 0)
	o.put(keyPlatforms, newObject())
	sessionStore := newObject()
	sessionStore.put("status", "unknown")
	o.put(keySessionStore, sessionStore)
	o.put(gateway.KeyUpdatedAt, pyISO(time.Now()))
	return o
}

// stamp lays one update over payload as write_runtime_status does: the
// writer's identity, updated_at, then the fields, then a platform entry.
func (w *stateWriter) stamp(payload *object, fields []kv, platform string, platformFields []kv) {
	if !payload.has(keyPlatforms) {
		payload.put(keyPlatforms, newObject())
	}
	payload.put(keyKind, gateway.PIDKind)
	payload.put(gateway.KeyPID, w.identity.pid)
	payload.put(keyArgv, w.identity.argv)
	payload.put(keyStartTime, w.identity.startTime)
	payload.put(gateway.KeyUpdatedAt, pyISO(time.Now()))
	for _, f := range fields {
		payload.put(f.key, f.value)
	}
	if platform == "" {
		return
	}
	platforms := payload.child(keyPlatforms)
	if platforms == nil {
		platforms = newObject()
	}
	entry := platforms.child(platform)
	if entry == nil {
		entry = newObject()
	}
	for _, f := range platformFields {
		entry.put(f.key, f.value)
	}
	entry.put(gateway.KeyUpdatedAt, pyISO(time.Now()))
	entry.put(keyWriterPID, w.identity.pid)
	entry.put(keyWriterStart, w.identity.startTime)
	platforms.put(platform, entry)
	payload.put(keyPlatforms, platforms)
}

// write persists one update, with no lock, in the writer's mode.
func (w *stateWriter) write(fields []kv) error {
	return w.writePlatform(fields, "", nil)
}

func (w *stateWriter) writePlatform(fields []kv, platform string, platformFields []kv) error {
	switch w.mode {
	case upstreamgateway.WriterSnapshot:
		if w.snapshot == nil {
			w.snapshot = readObject(w.path)
			if w.snapshot == nil {
				w.snapshot = w.freshRecord()
			}
		}
		payload := w.snapshot.clone()
		w.stamp(payload, fields, platform, platformFields)
		w.snapshot = payload
		// {**on_disk, **snapshot}: the disk's keys in their order with the
		// snapshot's values, then the snapshot's own keys.
		merged := readObject(w.path)
		w.pause()
		if merged == nil {
			return writeObject(w.path, payload)
		}
		for _, k := range payload.keys {
			merged.set(k, payload.values[k])
		}
		return writeObject(w.path, merged)
	default:
		payload := readObject(w.path)
		if payload == nil {
			payload = w.freshRecord()
		}
		w.stamp(payload, fields, platform, platformFields)
		w.pause()
		return writeObject(w.path, payload)
	}
}

func (w *stateWriter) pause() {
	if w.gap > 0 {
		time.Sleep(w.gap) // the race window, widened on request
	}
}

// runtimeFields are what GatewayRunner._update_runtime_status passes on
// every call: exit_reason is reset to null unless given.
func runtimeFields(state string, exitReason *string, restartRequested bool, activeAgents int) []kv {
	var reason any
	if exitReason != nil {
		reason = *exitReason
	}
	return []kv{
		{gateway.KeyGatewayState, state},
		{gateway.KeyExitReason, reason},
		{gateway.KeyRestartRequested, restartRequested},
		{keyActiveAgents, activeAgents},
	}
}

// pyISO is datetime.now(timezone.utc).isoformat(): microseconds, dropped
// when zero, and a +00:00 offset.
func pyISO(t time.Time) string {
	t = t.UTC()
	if t.Nanosecond()/1000 == 0 {
		return t.Format("2006-01-02T15:04:05+00:00")
	}
	return t.Format("2006-01-02T15:04:05.000000+00:00")
}

var errNaive = errors.New("naive datetime")

// parsePyISO is datetime.fromisoformat for the forms a marker holds; a
// time without an offset is naive, which upstream cannot subtract from an
// aware one (so it counts as stale).
func parsePyISO(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if len(s) > 10 && s[10] == ' ' {
		s = s[:10] + "T" + s[11:]
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if _, err := time.Parse("2006-01-02T15:04:05.999999999", s); err == nil {
		return time.Time{}, errNaive
	}
	_, err := time.Parse("2006-01-02T15:04:05.999999999Z07:00", s)
	return time.Time{}, err
}

func writeAtomic(path string, data []byte) error {
	return atomicfile.WriteFile(path, data, 0o644)
}

func statePath(dir string) string { return filepath.Join(dir, gateway.StateFile) }
