//go:build !windows

package s6

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nousresearch/hermes-service/shared/gateway"
	"github.com/nousresearch/hermes-service/shared/service"
)

// TestSlotDrain: how long each kind of slot lets its gateway drain.
func TestSlotDrain(t *testing.T) {
	tests := []struct {
		protocol string
		budget   time.Duration
		want     time.Duration
	}{
		// Upstream drains by its own clock; s6 cuts it at the budget.
		{gateway.ProtocolHermes, gateway.StopBudget, gateway.Drain},
		{gateway.ProtocolHermes, 10 * time.Minute, gateway.Drain},
		{gateway.ProtocolHermes, 20 * time.Second, 20 * time.Second},
		// The plain runner gives its child what fits in the budget.
		{gateway.ProtocolPlain, gateway.StopBudget, gateway.Drain},
		{gateway.ProtocolPlain, 10 * time.Minute, 570 * time.Second},
		{gateway.ProtocolPlain, 10 * time.Second, 6 * time.Second},
		// Unknown: the longer of the two.
		{"", 10 * time.Minute, 570 * time.Second},
		{"", 20 * time.Second, 20 * time.Second},
	}
	for _, tt := range tests {
		if got := (slotStop{Protocol: tt.protocol, Budget: tt.budget}).drain(); got != tt.want {
			t.Errorf("protocol %q, budget %v: drain %v, want %v", tt.protocol, tt.budget, got, tt.want)
		}
	}
}

// TestGraceFinding: s6-overlay's waits judged against the slots' drains,
// and what the finding tells to set.
func TestGraceFinding(t *testing.T) {
	fromEnv := func(name, raw string) overlayGrace {
		return overlayGrace{Name: name, Raw: raw, From: "the environment"}
	}
	unset := []overlayGrace{{Name: envServicesGrace}, {Name: envKillGrace}}
	hermesSlot := slotStop{Profile: "work", Protocol: gateway.ProtocolHermes, Budget: gateway.StopBudget}
	tests := []struct {
		name   string
		graces []overlayGrace
		slots  []slotStop
		want   service.Severity
		// detail and fix are parts each must hold; notFix, a part the fix
		// must not.
		detail, fix []string
		notFix      string
	}{
		{name: "defaults, no slot yet", graces: unset, want: service.SeverityWarning,
			detail: []string{"S6_SERVICES_GRACETIME is unset (s6-overlay's default, 3000 ms), shorter than the drain",
				"S6_KILL_GRACETIME is unset (s6-overlay's default, 3000 ms), shorter than the drain",
				"the drain of a default registration, 60000 ms (gateway-default: protocol hermes, stop budget 90000 ms), as no slot is registered yet"},
			fix: []string{"set S6_SERVICES_GRACETIME=90000 S6_KILL_GRACETIME=90000 in the container's environment",
				"docker stop -t 210, compose stop_grace_period: 210s"}},
		{name: "defaults, one slot", graces: unset, slots: []slotStop{hermesSlot}, want: service.SeverityWarning,
			detail: []string{"the longest drain, 60000 ms (gateway-work: protocol hermes, stop budget 90000 ms)"},
			fix:    []string{"S6_SERVICES_GRACETIME=90000 S6_KILL_GRACETIME=90000"}},
		// Only the short one is to be set; Docker's timeout counts the other
		// as it is.
		{name: "kill grace shorter", slots: []slotStop{hermesSlot},
			graces: []overlayGrace{fromEnv(envServicesGrace, "120000"), fromEnv(envKillGrace, "59999")},
			want:   service.SeverityWarning,
			detail: []string{"S6_KILL_GRACETIME=59999 (from the environment), shorter than the drain"},
			fix:    []string{"set S6_KILL_GRACETIME=90000 in", "docker stop -t 240,"}, notFix: "S6_SERVICES_GRACETIME"},
		{name: "long enough", slots: []slotStop{hermesSlot},
			graces: []overlayGrace{fromEnv(envServicesGrace, "60000"), {Name: envKillGrace, Raw: "90000", From: "/run/s6/container_environment/S6_KILL_GRACETIME"}},
			want:   service.SeverityOK,
			detail: []string{"S6_SERVICES_GRACETIME=60000 (from the environment); S6_KILL_GRACETIME=90000 (from /run/s6/container_environment/S6_KILL_GRACETIME): each covers the longest drain, 60000 ms"}},
		{name: "unparsable", slots: []slotStop{hermesSlot},
			graces: []overlayGrace{fromEnv(envServicesGrace, "90s"), fromEnv(envKillGrace, "90000")},
			want:   service.SeverityWarning,
			detail: []string{`S6_SERVICES_GRACETIME="90s" (from the environment) is no number of milliseconds`},
			fix:    []string{"set S6_SERVICES_GRACETIME=90000 in"}, notFix: "S6_KILL_GRACETIME"},
		{name: "negative", slots: []slotStop{hermesSlot},
			graces: []overlayGrace{fromEnv(envServicesGrace, "-1"), fromEnv(envKillGrace, "90000")},
			want:   service.SeverityWarning, detail: []string{`S6_SERVICES_GRACETIME="-1" (from the environment) is no number`}},
		// A short --stop-timeout shortens the drain: 3 s waits cover a
		// plain slot's 10 s budget (a 6 s drain) only when raised to 6 s.
		{name: "short plain budget, waits short", graces: []overlayGrace{fromEnv(envServicesGrace, "5999"), fromEnv(envKillGrace, "6000")},
			slots:  []slotStop{{Profile: "quick", Protocol: gateway.ProtocolPlain, Budget: 10 * time.Second}},
			want:   service.SeverityWarning,
			detail: []string{"the longest drain, 6000 ms (gateway-quick: protocol plain, stop budget 10000 ms)"},
			fix:    []string{"set S6_SERVICES_GRACETIME=10000 in", "docker stop -t 46,"}},
		{name: "short plain budget, waits enough", graces: []overlayGrace{fromEnv(envServicesGrace, "6000"), fromEnv(envKillGrace, "6000")},
			slots: []slotStop{{Profile: "quick", Protocol: gateway.ProtocolPlain, Budget: 10 * time.Second}},
			want:  service.SeverityOK, detail: []string{"each covers the longest drain, 6000 ms (gateway-quick"}},
		// The longest drain decides, and its slot's budget is what to set:
		// a longer budget around a shorter drain asks for nothing more.
		{name: "several slots", graces: unset,
			slots: []slotStop{
				{Profile: "quick", Protocol: gateway.ProtocolPlain, Budget: 10 * time.Second},
				{Profile: "slow", Protocol: gateway.ProtocolPlain, Budget: 5 * time.Minute},
				{Profile: "patient", Protocol: gateway.ProtocolHermes, Budget: 20 * time.Minute},
			},
			want:   service.SeverityWarning,
			detail: []string{"the longest drain, 270000 ms (gateway-slow: protocol plain, stop budget 300000 ms)"},
			fix:    []string{"S6_SERVICES_GRACETIME=300000 S6_KILL_GRACETIME=300000", "docker stop -t 630,"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := graceFinding(tt.graces, tt.slots)
			if f.Check != graceCheck || f.Severity != tt.want {
				t.Fatalf("got %+v, want check %q, severity %v", f, graceCheck, tt.want)
			}
			for _, d := range tt.detail {
				if !strings.Contains(f.Detail, d) {
					t.Errorf("detail %q\nwant it to hold %q", f.Detail, d)
				}
			}
			for _, x := range tt.fix {
				if !strings.Contains(f.Fix, x) {
					t.Errorf("fix %q\nwant it to hold %q", f.Fix, x)
				}
			}
			if tt.notFix != "" && strings.Contains(f.Fix, tt.notFix) {
				t.Errorf("fix %q holds %q", f.Fix, tt.notFix)
			}
			if (f.Severity == service.SeverityOK) != (f.Fix == "") {
				t.Errorf("an ok finding has no fix, a warning has one: %+v", f)
			}
		})
	}
}

// TestReadGrace: this process's environment first, then s6-overlay's
// container_environment; empty is unset.
func TestReadGrace(t *testing.T) {
	c := Config{OverlayDir: t.TempDir()}
	envDir := filepath.Join(c.OverlayDir, overlayEnvDir)
	if c.underOverlay() {
		t.Fatal("under s6-overlay without a basedir")
	}
	for _, d := range []string{envDir, filepath.Join(c.OverlayDir, overlayBaseDir)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if !c.underOverlay() {
		t.Fatal("not under s6-overlay with a basedir")
	}
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(envDir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv(envKillGrace, "")
	t.Setenv(envServicesGrace, "")

	if g := c.readGrace(envKillGrace); g != (overlayGrace{Name: envKillGrace}) {
		t.Errorf("nothing set: %+v", g)
	}
	write(envKillGrace, "45000\nignored\n")
	want := overlayGrace{Name: envKillGrace, Raw: "45000", From: filepath.Join(envDir, envKillGrace)}
	if g := c.readGrace(envKillGrace); g != want {
		t.Errorf("from the file: %+v, want %+v", g, want)
	}
	t.Setenv(envKillGrace, "90000")
	want = overlayGrace{Name: envKillGrace, Raw: "90000", From: "the environment"}
	if g := c.readGrace(envKillGrace); g != want {
		t.Errorf("from the environment: %+v, want %+v", g, want)
	}
	write(envServicesGrace, "\n")
	if g := c.readGrace(envServicesGrace); g != (overlayGrace{Name: envServicesGrace}) {
		t.Errorf("an empty file: %+v", g)
	}
	if d, ok := (overlayGrace{Name: envServicesGrace}).value(); !ok || d != defaultOverlayGrace {
		t.Errorf("unset: %v %v, want s6-overlay's default", d, ok)
	}
}

// TestSlotProtocol: the protocol read back from the run script hermes
// writes, whatever its words need quoting.
func TestSlotProtocol(t *testing.T) {
	for _, user := range []string{"", "hermes"} {
		for _, protocol := range []string{gateway.ProtocolHermes, gateway.ProtocolPlain, ""} {
			c := Config{User: user, BinDir: "/command"}
			c.Home = "/opt/data/it's here"
			argv := []string{"/opt/my hermes/hermes", "-p", "work", "gateway", "run"}
			if protocol != "" {
				argv = append(argv, gateway.FlagProtocol, protocol)
			}
			// A gateway program whose words hold the flag: after the
			// separator, not the runner's.
			argv = append(argv, gateway.ProgramSeparator, "sh", "-c", "echo '--protocol plain'", "--protocol", "plain")
			dir := t.TempDir()
			script := c.renderRun("work", argv, map[string]string{"TOKEN": "a 'b' $c"})
			if err := os.WriteFile(filepath.Join(dir, "run"), []byte(script), 0o755); err != nil {
				t.Fatal(err)
			}
			slot, err := os.Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			got := slotProtocol(slot)
			slot.Close()
			if got != protocol {
				t.Errorf("user %q, protocol %q: read %q from\n%s", user, protocol, got, script)
			}
		}
	}
}

// TestShellWords: what sh makes of the words shellWord writes.
func TestShellWords(t *testing.T) {
	in := []string{"plain", "/a b/c", "it's", "", "--protocol", "x'y'z", "@%+=:,./-"}
	var line []string
	for _, w := range in {
		line = append(line, shellWord(w))
	}
	got, ok := shellWords(strings.Join(line, " "))
	if !ok || !slices.Equal(got, in) {
		t.Errorf("shellWords(%q) = %q, %v; want %q", strings.Join(line, " "), got, ok, in)
	}
	for _, bad := range []string{`"quoted"`, "$HOME", "'open", `a\`, "a;b", "a|b"} {
		if got, ok := shellWords(bad); ok {
			t.Errorf("shellWords(%q) = %q, want refused", bad, got)
		}
	}
}
