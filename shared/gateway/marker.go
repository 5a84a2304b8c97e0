package gateway

import (
	"encoding/json"
	"os"
	"time"

	"github.com/hashicorp/go-hclog"
)

// MarkerTTL is how long a planned-stop marker stays valid.
const MarkerTTL = 60 * time.Second

// MarkerSkew is how far in the future a marker's written_at may be (clocks
// of two processes on one machine agree; a container's may lag a little).
// One dated further ahead is nobody's: honoured, it would turn every stop
// from outside in the next hour into an operator's.
const MarkerSkew = 5 * time.Second

// Marker is .gateway-planned-stop.json: "the stop of target_pid that is about
// to come is the operator's".
type Marker struct {
	TargetPID       int    `json:"target_pid"`
	TargetStartTime *int64 `json:"target_start_time"`
	StopperPID      int    `json:"stopper_pid"`
	WrittenAt       string `json:"written_at"`
}

// WriteMarker marks the coming stop of pid, the gateway of the profile at
// dir, as planned. It writes atomically, and the error says whether it
// worked.
func WriteMarker(dir string, pid int) error { return writeMarker(dir, PlannedStopFile, pid, false) }

// WriteWatchedMarker marks the coming stop of pid as planned for a stop no
// signal follows: upstream's planned-stop watcher, which polls for a marker
// naming its own gateway, picks it up and stops the gateway as planned.
// That is how upstream stops its gateway on Windows, where a Python
// gateway has no SIGTERM handler: the marker, then a wait.
func WriteWatchedMarker(dir string, pid int) error {
	return writeMarker(dir, PlannedStopFile, pid, true)
}

// RunnerTakeoverFile is a plain-protocol runner's --replace marker: "the
// coming stop of target_pid is a new runner taking over", so the old one
// exits without recording an operator's stop (and the intent "stopped"
// with it). Upstream never reads it.
const RunnerTakeoverFile = ".hermes-runner-takeover.json"

// WriteRunnerTakeover marks the coming stop of the runner pid as a
// takeover by this process.
func WriteRunnerTakeover(dir string, pid int) error {
	return writeMarker(dir, RunnerTakeoverFile, pid, false)
}

// ConsumeRunnerTakeover is ConsumeMarker for RunnerTakeoverFile.
func ConsumeRunnerTakeover(dir string, pid int) bool { return consume(dir, RunnerTakeoverFile, pid) }

// writeMarker writes a marker naming pid; watched leaves it to upstream's
// watcher (no signal follows).
func writeMarker(dir, file string, pid int, watched bool) error {
	m := Marker{TargetPID: pid, TargetStartTime: StartTime(pid), StopperPID: os.Getpid(), WrittenAt: isoNow(now())}
	o := newObject()
	fields := []struct {
		k string
		v any
	}{{"target_pid", m.TargetPID}, {"target_start_time", m.TargetStartTime}, {"stopper_pid", m.StopperPID}, {"written_at", m.WrittenAt}}
	if !watched {
		// A signal follows at once: upstream's marker watcher must leave the
		// marker to the signal handler, or it consumes it first and the
		// SIGTERM then reads as a stop from outside (newer upstream writes
		// the same field in its own stop hook's markers).
		fields = append(fields, struct {
			k string
			v any
		}{"trigger_watcher", false})
	}
	for _, kv := range fields {
		if err := o.put(kv.k, kv.v); err != nil {
			return err
		}
	}
	data, err := o.marshal()
	if err != nil {
		return err
	}
	return writeFile(dir, file, data, 0o644)
}

// MarkPlannedStop is what every backend calls before it stops a gateway:
// write the marker for pid in the profile folder dir. Best effort: a
// failure is logged and reported, and must never block the stop.
func MarkPlannedStop(log hclog.Logger, dir string, pid int) bool {
	if pid <= 0 {
		return false
	}
	if err := WriteMarker(dir, pid); err != nil {
		if log != nil {
			log.Warn("could not mark the stop as planned; the gateway will record it as a stop from outside",
				"pid", pid, "dir", dir, "error", err)
		}
		return false
	}
	return true
}

// markerState is what a marker on disk means for one process.
type markerState int

const (
	markerNone    markerState = iota // no marker
	markerInvalid                    // corrupt or expired: nobody's
	markerOther                      // valid, for another process
	markerSelf                       // valid, for this process
)

func readMarker(dir string, pid int) (markerState, *Marker) {
	return readMarkerFile(dir, PlannedStopFile, pid)
}

func readMarkerFile(dir, file string, pid int) (markerState, *Marker) {
	data, err := readFile(dir, file)
	if err != nil {
		// Missing; or unreadable (a symlink, too large, permissions): not
		// ours to judge or remove.
		return markerNone, nil
	}
	var m Marker
	if json.Unmarshal(data, &m) != nil || m.TargetPID <= 0 {
		return markerInvalid, nil
	}
	written, ok := parseISO(m.WrittenAt)
	if age := now().Sub(written); !ok || age > MarkerTTL || age < -MarkerSkew {
		return markerInvalid, &m
	}
	if m.TargetPID != pid {
		return markerOther, &m
	}
	// Same pid: the start times, where both are known, tell this process
	// from an earlier one that had the same pid.
	if m.TargetStartTime != nil {
		if cur := StartTime(pid); cur != nil && *cur != *m.TargetStartTime {
			return markerInvalid, &m
		}
	}
	return markerSelf, &m
}

// ConsumeMarker answers, for the process pid receiving SIGTERM, "was this
// stop planned?". It removes a marker that names pid, and one that is
// expired or corrupt; a live marker naming another process is left alone
// (that process's stop is still coming).
func ConsumeMarker(dir string, pid int) bool { return consume(dir, PlannedStopFile, pid) }

func consume(dir, file string, pid int) bool {
	state, _ := readMarkerFile(dir, file, pid)
	switch state {
	case markerSelf, markerInvalid:
		_ = removeFile(dir, file)
	}
	return state == markerSelf
}

// ProbeMarker reports whether a valid marker names pid, and never removes
// anything.
func ProbeMarker(dir string, pid int) bool {
	state, _ := readMarker(dir, pid)
	return state == markerSelf
}
