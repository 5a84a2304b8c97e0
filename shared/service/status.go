package service

import (
	"encoding/json"
	"fmt"
	"time"
)

// State is what a gateway is doing, the same set of values on every backend.
type State string

// The states a backend reports.
const (
	StateRunning  State = "running"
	StateStopped  State = "stopped"
	StateStarting State = "starting"
	StateFailed   State = "failed"
	StateUnknown  State = "unknown"
)

// Valid reports whether s is one of the states above.
func (s State) Valid() bool {
	switch s {
	case StateRunning, StateStopped, StateStarting, StateFailed, StateUnknown:
		return true
	}
	return false
}

// Desired states the operator can record (gateway_state.json's desired_state).
const (
	DesiredRunning = "running"
	DesiredStopped = "stopped"
)

// Status is one profile's gateway as a backend sees it. Pointer fields are
// nil when the backend does not know the value; JSON shows them as null.
type Status struct {
	// Profile is the profile asked about.
	Profile string
	// Backend is the kind of the backend that answered.
	Backend string
	// Installed is true when a service definition (unit, plist, slot,
	// service) exists for the profile.
	Installed bool
	// State is what the gateway is doing.
	State State
	// PID is the gateway's process id while it runs.
	PID *int
	// Since is when the gateway entered its current state.
	Since *time.Time
	// LastExit is the exit code of the gateway's last run.
	LastExit *int
	// Restarts counts how often the init system restarted it.
	Restarts *int
	// Enabled is true when the service starts at boot or login.
	Enabled *bool
	// DesiredState is the operator's recorded intent, "running" or "stopped".
	DesiredState *string
	// Unit is the unit, plist, slot or service name the status concerns.
	Unit *string
	// Detail is free-form text for a person.
	Detail string
}

// statusJSON fixes the JSON keys and their order; every key is always present.
type statusJSON struct {
	Profile      string  `json:"profile"`
	Backend      string  `json:"backend"`
	Installed    bool    `json:"installed"`
	State        State   `json:"state"`
	PID          *int    `json:"pid"`
	Since        *string `json:"since"`
	LastExit     *int    `json:"last_exit"`
	Restarts     *int    `json:"restarts"`
	Enabled      *bool   `json:"enabled"`
	DesiredState *string `json:"desired_state"`
	Unit         *string `json:"unit"`
	Detail       *string `json:"detail"`
}

// MarshalJSON writes the keys every backend shares: unknown values are null,
// never missing; since is RFC 3339.
func (s Status) MarshalJSON() ([]byte, error) {
	j := statusJSON{
		Profile: s.Profile, Backend: s.Backend, Installed: s.Installed, State: s.State,
		PID: s.PID, LastExit: s.LastExit, Restarts: s.Restarts, Enabled: s.Enabled,
		DesiredState: s.DesiredState, Unit: s.Unit,
	}
	if j.State == "" {
		j.State = StateUnknown
	}
	if s.Since != nil {
		v := s.Since.UTC().Format(time.RFC3339)
		j.Since = &v
	}
	if s.Detail != "" {
		j.Detail = &s.Detail
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (s *Status) UnmarshalJSON(b []byte) error {
	var j statusJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*s = Status{
		Profile: j.Profile, Backend: j.Backend, Installed: j.Installed, State: j.State,
		PID: j.PID, LastExit: j.LastExit, Restarts: j.Restarts, Enabled: j.Enabled,
		DesiredState: j.DesiredState, Unit: j.Unit,
	}
	if j.Since != nil {
		t, err := time.Parse(time.RFC3339, *j.Since)
		if err != nil {
			return fmt.Errorf("status since: %w", err)
		}
		s.Since = &t
	}
	if j.Detail != nil {
		s.Detail = *j.Detail
	}
	return nil
}
