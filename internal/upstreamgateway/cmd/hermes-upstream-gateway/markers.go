package main

import (
	"errors"
	"os"
	"path/filepath"
	"time"

	"github.com/nousresearch/hermes-service/shared/gateway"
)

// Marker fields upstream writes beyond shared/gateway.Marker's.
const (
	keyTargetPID        = "target_pid"
	keyTargetStartTime  = "target_start_time"
	keyTargetHome       = "target_hermes_home"
	keyReplacerPID      = "replacer_pid"
	keyReplacerHome     = "replacer_hermes_home"
	keyWrittenAt        = "written_at"
	keyTriggerWatcher   = "trigger_watcher"
	futureMarkersAccept = "accept"
)

// markerRules say how old and how new a marker may be.
type markerRules struct {
	ttl time.Duration
	// skew is how far in the future written_at may be; negative means any
	// future time is fine (upstream's own rule: it only checks the age).
	skew time.Duration
}

// stale is _marker_is_stale, plus the brief's "not in the future beyond a
// small skew" unless future markers are accepted as upstream does.
func (m markerRules) stale(writtenAt string) bool {
	t, err := parsePyISO(writtenAt)
	if err != nil {
		return true
	}
	age := time.Since(t)
	if age > m.ttl {
		return true
	}
	return m.skew >= 0 && age < -m.skew
}

// markerFile is one of upstream's pid-scoped markers in a home.
type markerFile struct {
	path  string
	rules markerRules
	self  identity
}

func plannedStopMarker(dir string, rules markerRules, self identity) markerFile {
	return markerFile{path: filepath.Join(dir, gateway.PlannedStopFile), rules: rules, self: self}
}

func takeoverMarker(dir string, rules markerRules, self identity) markerFile {
	return markerFile{path: filepath.Join(dir, gateway.TakeoverFile), rules: rules, self: self}
}

// live is _read_live_pid_marker: the marker when it is usable; a marker
// without a target or past its age is removed (it can match nobody), one
// that is not a JSON object is left alone.
func (m markerFile) live() (*record, int) {
	o := readObject(m.path)
	if o == nil || len(o.keys) == 0 {
		return nil, 0
	}
	r := &record{obj: o}
	target, ok := r.intField(keyTargetPID)
	written, _ := r.str(keyWrittenAt)
	if !ok || m.rules.stale(written) {
		_ = os.Remove(m.path)
		return nil, 0
	}
	return r, target
}

// namesSelf is _pid_marker_names_self: same pid, and the same start time
// where both are known.
func (m markerFile) namesSelf(r *record, target int) bool {
	if target != m.self.pid {
		return false
	}
	recorded := r.startTime(keyTargetStartTime)
	return recorded == nil || m.self.startTime == nil || *recorded == *m.self.startTime
}

// consume is _consume_pid_marker_for_self: true when the marker names this
// process. A marker meant for another home is left in place; any other
// live marker is removed once read, whoever it names.
func (m markerFile) consume() bool {
	r, target := m.live()
	if r == nil {
		return false
	}
	// A null home is no home; a home that is not a string matches none
	// (upstream raises there, and its handler then treats the stop as
	// unplanned without removing anything).
	var targetHome, replacerHome any
	r.obj.get(keyTargetHome, &targetHome)
	r.obj.get(keyReplacerHome, &replacerHome)
	if targetHome != nil {
		if s, ok := targetHome.(string); !ok || !sameHome(s, m.self.home) {
			return false
		}
	} else if replacerHome != nil {
		if s, ok := replacerHome.(string); !ok || !sameHome(s, m.self.home) {
			return false
		}
	}
	matches := m.namesSelf(r, target)
	_ = os.Remove(m.path)
	return matches
}

// targetsSelf is planned_stop_marker_targets_self, the watcher's probe: it
// never removes a marker that names this process, ignores one reserved for
// the signal handler (trigger_watcher: false), and removes dead ones.
func (m markerFile) targetsSelf() bool {
	if _, err := os.Stat(m.path); errors.Is(err, os.ErrNotExist) {
		return false
	}
	r, target := m.live()
	if r == nil {
		return false
	}
	var trigger bool
	if r.obj.get(keyTriggerWatcher, &trigger) && !trigger {
		return false
	}
	return m.namesSelf(r, target)
}

// writeTakeover is write_takeover_marker for a gateway of the same home.
func writeTakeover(dir string, self identity, target int) error {
	o := newObject()
	o.put(keyTargetPID, target)
	o.put(keyTargetStartTime, gateway.StartTime(target))
	o.put(keyTargetHome, self.home)
	o.put(keyReplacerPID, self.pid)
	o.put(keyReplacerHome, self.home)
	o.put(keyWrittenAt, pyISO(time.Now()))
	return writeObject(filepath.Join(dir, gateway.TakeoverFile), o)
}
