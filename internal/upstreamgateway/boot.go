package upstreamgateway

import (
	"bytes"
	"encoding/json"
)

// Reader is one era of upstream's container-boot reconciler
// (hermes_cli/container_boot.py): how it decides, from a profile's
// gateway_state.json, whether the boot starts the gateway. hermes's files
// must lead every era to the operator's intent.
type Reader int

const (
	// SeedEra (5cf6e28a2f) reads gateway_state alone: "running" starts.
	SeedEra Reader = iota
	// Later (b77096726) lets a non-null desired_state win, else reads
	// gateway_state with draining and degraded as running.
	Later
	// Newest is Later reading the file as utf-8-sig: a BOM is allowed.
	Newest
)

// Readers are every era, oldest first.
var Readers = []Reader{SeedEra, Later, Newest}

func (r Reader) String() string {
	return [...]string{"seed-era", "later", "newest"}[r]
}

// Starts says whether the era's boot starts a gateway whose state file
// holds data (nil: no file).
func (r Reader) Starts(data []byte) bool {
	if r == Newest {
		data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	}
	var st struct {
		GatewayState *string `json:"gateway_state"`
		DesiredState *string `json:"desired_state"`
	}
	if len(data) == 0 || json.Unmarshal(data, &st) != nil {
		return false // no state: registered, not started
	}
	if r != SeedEra && st.DesiredState != nil {
		return *st.DesiredState == "running"
	}
	if st.GatewayState == nil {
		return false
	}
	switch *st.GatewayState {
	case "running":
		return true
	case "draining", "degraded":
		return r != SeedEra
	}
	return false
}
