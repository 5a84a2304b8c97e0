package service_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/nousresearch/hermes-service/shared/service"
)

func TestStatusJSONHasEveryKey(t *testing.T) {
	since := time.Date(2026, 11, 25, 10, 0, 0, 0, time.FixedZone("CET", 3600))
	tests := []struct {
		name   string
		status service.Status
		want   string
	}{
		{
			name:   "unknowns are null",
			status: service.Status{Profile: "work", Backend: "s6"},
			want:   `{"profile":"work","backend":"s6","installed":false,"state":"unknown","pid":null,"since":null,"last_exit":null,"restarts":null,"enabled":null,"desired_state":null,"unit":null,"detail":null}`,
		},
		{
			name: "everything known",
			status: service.Status{Profile: "default", Backend: "systemd", Installed: true, State: service.StateRunning,
				PID: new(42), Since: &since, LastExit: new(0), Restarts: new(3),
				Enabled: new(true), DesiredState: new("running"), Unit: new("hermes-gateway.service"),
				Detail: "active (running)"},
			want: `{"profile":"default","backend":"systemd","installed":true,"state":"running","pid":42,"since":"2026-11-25T09:00:00Z","last_exit":0,"restarts":3,"enabled":true,"desired_state":"running","unit":"hermes-gateway.service","detail":"active (running)"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := json.Marshal(tt.status)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Fatalf("got  %s\nwant %s", got, tt.want)
			}
			var back service.Status
			if err := json.Unmarshal(got, &back); err != nil {
				t.Fatal(err)
			}
			want := tt.status
			if want.State == "" {
				want.State = service.StateUnknown
			}
			if want.Since != nil {
				want.Since = new(want.Since.UTC())
			}
			if !reflect.DeepEqual(back, want) {
				t.Fatalf("round trip: got %+v want %+v", back, want)
			}
		})
	}
}
