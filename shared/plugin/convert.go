package plugin

import (
	"google.golang.org/protobuf/types/known/timestamppb"
	"maps"

	pb "github.com/nousresearch/hermes-service/shared/proto/hermes/service/v1"
	"github.com/nousresearch/hermes-service/shared/service"
)

var stateToPB = map[service.State]pb.State{
	service.StateRunning:  pb.State_STATE_RUNNING,
	service.StateStopped:  pb.State_STATE_STOPPED,
	service.StateStarting: pb.State_STATE_STARTING,
	service.StateFailed:   pb.State_STATE_FAILED,
	service.StateUnknown:  pb.State_STATE_UNKNOWN,
}

var stateFromPB = map[pb.State]service.State{
	pb.State_STATE_RUNNING:  service.StateRunning,
	pb.State_STATE_STOPPED:  service.StateStopped,
	pb.State_STATE_STARTING: service.StateStarting,
	pb.State_STATE_FAILED:   service.StateFailed,
	pb.State_STATE_UNKNOWN:  service.StateUnknown,
}

var severityToPB = map[service.Severity]pb.Severity{
	service.SeverityOK:      pb.Severity_SEVERITY_OK,
	service.SeverityWarning: pb.Severity_SEVERITY_WARNING,
	service.SeverityError:   pb.Severity_SEVERITY_ERROR,
}

var severityFromPB = map[pb.Severity]service.Severity{
	pb.Severity_SEVERITY_OK:      service.SeverityOK,
	pb.Severity_SEVERITY_WARNING: service.SeverityWarning,
	pb.Severity_SEVERITY_ERROR:   service.SeverityError,
}

// findingToPB sends a severity the contract does not name (a backend that
// forgot to set one) as a warning: shown, but failing nothing.
func findingToPB(f service.Finding) *pb.Finding {
	sev, ok := severityToPB[f.Severity]
	if !ok {
		sev = pb.Severity_SEVERITY_WARNING
	}
	return &pb.Finding{Check: f.Check, Severity: sev, Detail: f.Detail, Fix: f.Fix}
}

// findingFromPB reads a severity this host does not know yet (a newer
// plugin's) as a warning, for the same reason.
func findingFromPB(p *pb.Finding) service.Finding {
	sev, ok := severityFromPB[p.GetSeverity()]
	if !ok {
		sev = service.SeverityWarning
	}
	return service.Finding{Check: p.GetCheck(), Severity: sev, Detail: p.GetDetail(), Fix: p.GetFix()}
}

func statusToPB(s service.Status) *pb.Status {
	out := &pb.Status{
		Profile:      s.Profile,
		Backend:      s.Backend,
		Installed:    s.Installed,
		State:        stateToPB[s.State],
		Pid:          int64Ptr(s.PID),
		LastExit:     int64Ptr(s.LastExit),
		Restarts:     int64Ptr(s.Restarts),
		Enabled:      s.Enabled,
		DesiredState: s.DesiredState,
		Unit:         s.Unit,
		Detail:       s.Detail,
	}
	if out.State == pb.State_STATE_UNSPECIFIED {
		out.State = pb.State_STATE_UNKNOWN
	}
	if s.Since != nil {
		out.Since = timestamppb.New(*s.Since)
	}
	return out
}

func statusFromPB(p *pb.Status) service.Status {
	s := service.Status{
		Profile:      p.GetProfile(),
		Backend:      p.GetBackend(),
		Installed:    p.GetInstalled(),
		State:        stateFromPB[p.GetState()],
		PID:          intPtr(p.Pid),
		LastExit:     intPtr(p.LastExit),
		Restarts:     intPtr(p.Restarts),
		Enabled:      p.Enabled,
		DesiredState: p.DesiredState,
		Unit:         p.Unit,
		Detail:       p.GetDetail(),
	}
	if s.State == "" {
		// A state this host does not know yet (a newer plugin).
		s.State = service.StateUnknown
	}
	if p.GetSince() != nil {
		t := p.GetSince().AsTime()
		s.Since = &t
	}
	return s
}

func int64Ptr(p *int) *int64 {
	if p == nil {
		return nil
	}
	v := int64(*p)
	return &v
}

func intPtr(p *int64) *int {
	if p == nil {
		return nil
	}
	v := int(*p)
	return &v
}

func capsToPB(c service.Capabilities) *pb.Capabilities {
	return &pb.Capabilities{
		Install: c.Install, Registration: c.Registration, Logs: c.Logs,
		FollowLogs: c.FollowLogs, SystemScope: c.SystemScope, ElevatedHandoff: c.ElevatedHandoff,
	}
}

func capsFromPB(c *pb.Capabilities) service.Capabilities {
	return service.Capabilities{
		Install: c.GetInstall(), Registration: c.GetRegistration(), Logs: c.GetLogs(),
		FollowLogs: c.GetFollowLogs(), SystemScope: c.GetSystemScope(), ElevatedHandoff: c.GetElevatedHandoff(),
	}
}

func logLineToPB(l service.LogLine) *pb.LogsResponse {
	out := &pb.LogsResponse{Text: l.Text}
	if !l.Time.IsZero() {
		out.Time = timestamppb.New(l.Time)
	}
	return out
}

func logLineFromPB(p *pb.LogsResponse) service.LogLine {
	l := service.LogLine{Text: p.GetText()}
	if p.GetTime() != nil {
		l.Time = p.GetTime().AsTime()
	}
	return l
}

// cloneEnv keeps a nil map nil and never shares the caller's map.
func cloneEnv(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return maps.Clone(m)
}
