//go:build !windows

package s6

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/nousresearch/hermes-service/shared/gateway"
	"github.com/nousresearch/hermes-service/shared/service"
)

// A container's stop under s6-overlay (docker stop): every slot is brought
// down (s6-svc -d: SIGTERM, the gateway starts draining), s6-overlay waits
// up to S6_SERVICES_GRACETIME for them, then sends every process SIGTERM,
// waits S6_KILL_GRACETIME and sends SIGKILL. Either wait shorter than a
// gateway's drain hurts it: past the first, the draining gateway gets a
// second SIGTERM and loses its logger and its s6-supervise; past the
// second, it is killed. So doctor wants each to cover the longest drain of
// the registered slots.

// graceCheck is the finding's name.
const graceCheck = "s6-overlay stop grace"

// dockerMargin is what doctor adds to s6-overlay's two waits for Docker's
// own stop timeout: s6-overlay runs its cont-finish scripts and ends its
// loggers around them, and Docker's SIGKILL must not come first.
const dockerMargin = 30 * time.Second

// overlayGrace is one of s6-overlay's stop waits as doctor read it.
type overlayGrace struct {
	// Name is the variable, envServicesGrace or envKillGrace.
	Name string
	// Raw is its text; "" when unset (s6-overlay's default applies).
	Raw string
	// From says where Raw came from: "the environment" or the
	// container_environment file.
	From string
}

// value is the wait s6-overlay makes of g; ok is false when Raw is no
// number of milliseconds.
func (g overlayGrace) value() (d time.Duration, ok bool) {
	if g.Raw == "" {
		return defaultOverlayGrace, true
	}
	ms, err := strconv.ParseUint(g.Raw, 10, 32)
	if err != nil {
		return 0, false
	}
	return time.Duration(ms) * time.Millisecond, true
}

// describe is g for a finding: its value and where it came from.
func (g overlayGrace) describe() string {
	if g.Raw == "" {
		return fmt.Sprintf("%s is unset (s6-overlay's default, %d ms)", g.Name, defaultOverlayGrace.Milliseconds())
	}
	if _, ok := g.value(); !ok {
		return fmt.Sprintf("%s=%q (from %s) is no number of milliseconds", g.Name, g.Raw, g.From)
	}
	return fmt.Sprintf("%s=%s (from %s)", g.Name, g.Raw, g.From)
}

// underOverlay reports whether s6-overlay runs here: its basedir is a
// folder (host detection's rule, without PID 1's name, which a test cannot
// fake). A private tree of `hermes gateway supervise` has none, and no
// S6_*_GRACETIME applies to it.
func (c Config) underOverlay() bool {
	info, err := os.Stat(filepath.Join(c.OverlayDir, overlayBaseDir))
	return err == nil && info.IsDir()
}

// readGrace reads one of s6-overlay's waits: this process's environment
// first (docker exec gives it the container's), then the container's
// environment as s6-overlay keeps it. Empty counts as unset, as it does
// for s6-overlay.
func (c Config) readGrace(name string) overlayGrace {
	if v := strings.TrimSpace(os.Getenv(name)); v != "" {
		return overlayGrace{Name: name, Raw: v, From: "the environment"}
	}
	path := filepath.Join(c.OverlayDir, overlayEnvDir, name)
	data, err := os.ReadFile(path)
	if err != nil {
		return overlayGrace{Name: name}
	}
	// s6-envdir reads the first line.
	first, _, _ := strings.Cut(string(data), "\n")
	if v := strings.TrimSpace(first); v != "" {
		return overlayGrace{Name: name, Raw: v, From: path}
	}
	return overlayGrace{Name: name}
}

// slotStop is what a registered slot lets its gateway take on a stop.
type slotStop struct {
	Profile string
	// Protocol is the runner's --protocol in the slot's run script; ""
	// when the script names none or cannot be read.
	Protocol string
	// Budget is the slot's stop budget (its timeout-kill).
	Budget time.Duration
}

// drain is how long the slot's gateway may drain: under the hermes
// protocol upstream's own drain, cut by s6 at the budget when that is
// shorter; under the plain protocol the runner's child timeout
// (gateway.DrainWithin). An unknown protocol counts as the longer of the
// two, since a warning must not be missed.
func (s slotStop) drain() time.Duration {
	hermes := min(gateway.Drain, s.Budget)
	plain := gateway.DrainWithin(s.Budget)
	switch s.Protocol {
	case gateway.ProtocolHermes:
		return hermes
	case gateway.ProtocolPlain:
		return plain
	}
	return max(hermes, plain)
}

func (s slotStop) describe() string {
	protocol := s.Protocol
	if protocol == "" {
		protocol = "unknown"
	}
	return fmt.Sprintf("%d ms (%s: protocol %s, stop budget %d ms)", s.drain().Milliseconds(), slotName(s.Profile),
		protocol, s.Budget.Milliseconds())
}

// defaultSlot stands for the slots to come when none is registered yet:
// reconcile registers them, by default with the default budget.
var defaultSlot = slotStop{Profile: service.DefaultProfile, Protocol: gateway.ProtocolHermes, Budget: gateway.StopBudget}

// graceFinding judges s6-overlay's waits (graces) against the slots'
// drains: a warning naming what cuts which drain, and what to set, when a
// wait is unreadable or shorter than the longest drain; ok otherwise. The
// value it tells to set is the stop budget of the slot that drains longest:
// its drain and the margin the slot keeps around it (the plain runner's
// teardown), the time s6 itself gives that slot; every other drain is
// shorter.
func graceFinding(graces []overlayGrace, slots []slotStop) service.Finding {
	registered := len(slots) > 0
	if !registered {
		slots = []slotStop{defaultSlot}
	}
	longest := slots[0]
	for _, s := range slots[1:] {
		if s.drain() > longest.drain() {
			longest = s
		}
	}
	need, budget := longest.drain(), longest.Budget
	var short, set []string
	total := time.Duration(0)
	for _, g := range graces {
		d, ok := g.value()
		switch {
		case !ok:
			short = append(short, g.describe())
		case d < need:
			short = append(short, g.describe()+", shorter than the drain")
		default:
			total += d
			continue
		}
		set = append(set, fmt.Sprintf("%s=%d", g.Name, budget.Milliseconds()))
		total += budget
	}
	drainText := "the longest drain, " + longest.describe()
	if !registered {
		drainText = "the drain of a default registration, " + longest.describe() + ", as no slot is registered yet"
	}
	if len(short) == 0 {
		var have []string
		for _, g := range graces {
			have = append(have, g.describe())
		}
		return service.Finding{Check: graceCheck, Severity: service.SeverityOK,
			Detail: strings.Join(have, "; ") + ": each covers " + drainText}
	}
	stop := gateway.Seconds((total + dockerMargin + time.Second - 1).Truncate(time.Second))
	return service.Finding{Check: graceCheck, Severity: service.SeverityWarning,
		Detail: "a container's stop may cut gateways' drains short: " + strings.Join(short, "; ") + "; " + drainText,
		Fix: "set " + strings.Join(set, " ") + " in the container's environment (docker run -e, compose environment:, " +
			"ENV in the Dockerfile), and give Docker longer than s6-overlay's waits together: docker stop -t " + stop +
			", compose stop_grace_period: " + stop + "s"}
}

// graceFinding is the finding on s6-overlay's waits for the slots
// registered now; nothing when the scandir cannot be listed (its own
// finding says why).
func (b *Backend) graceFinding(ctx context.Context) (service.Finding, bool) {
	profiles, err := b.List(ctx)
	if err != nil {
		return service.Finding{}, false
	}
	var slots []slotStop
	for _, p := range profiles {
		slot, err := b.cfg.openSlot(p)
		if err != nil {
			continue
		}
		slots = append(slots, slotStop{Profile: p, Protocol: slotProtocol(slot), Budget: slotStopBudget(slot)})
		slot.Close()
	}
	graces := []overlayGrace{b.cfg.readGrace(envServicesGrace), b.cfg.readGrace(envKillGrace)}
	return graceFinding(graces, slots), true
}

// slotProtocol is the runner's --protocol in the slot's run script: read
// from its last exec line, whose words are hermes's own (renderRun quotes
// each for sh); "" when the script cannot be read or names none.
func slotProtocol(slot *os.File) string {
	data, ok, err := readFileAt(slot, "run", 1<<20)
	if !ok || err != nil {
		return ""
	}
	var last string
	for line := range strings.Lines(string(data)) {
		if strings.HasPrefix(line, "exec ") {
			last = line
		}
	}
	words, ok := shellWords(strings.TrimSpace(last))
	if !ok {
		return ""
	}
	return gateway.RunnerProtocol(words)
}

// bareChars are the characters shellWord leaves unquoted.
const bareChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@%+=:,./-"

// shellWords splits a line as sh would split what shellWord and shellQuote
// write: words apart at spaces, single quotes taken literally, a
// backslash escaping the next character. ok is false for anything else
// (sh would expand it, or it is left open).
func shellWords(line string) (words []string, ok bool) {
	var w strings.Builder
	in, quoted := false, false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quoted && c == '\'':
			quoted = false
		case quoted:
			w.WriteByte(c)
		case c == '\'':
			quoted, in = true, true
		case c == '\\':
			if i+1 == len(line) {
				return nil, false
			}
			i++
			w.WriteByte(line[i])
			in = true
		case c == ' ':
			if in {
				words = append(words, w.String())
				w.Reset()
				in = false
			}
		case strings.IndexByte(bareChars, c) >= 0:
			w.WriteByte(c)
			in = true
		default:
			return nil, false
		}
	}
	if quoted {
		return nil, false
	}
	if in {
		words = append(words, w.String())
	}
	return words, true
}
