package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/nousresearch/hermes-service/shared/gateway"
)

// selfName is the stand-in's own program name: upstream counts a command
// line whose program is its dedicated `hermes-gateway` entry point as a
// gateway, and this program stands in for it.
const selfName = "hermes-upstream-gateway"

// identity is who this gateway is: _build_pid_record.
type identity struct {
	pid       int
	argv      []string
	startTime *int64
	home      string // canonical HERMES_HOME (absolute, symlinks resolved)
}

func newIdentity(home string) identity {
	pid := os.Getpid()
	return identity{pid: pid, argv: os.Args, startTime: gateway.StartTime(pid), home: canonicalHome(home)}
}

// canonicalHome is Path(home).expanduser().resolve(strict=False).
func canonicalHome(home string) string {
	abs, err := filepath.Abs(home)
	if err != nil {
		return home
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		return real
	}
	return abs
}

// sameHome is _same_hermes_home.
func sameHome(a, b string) bool {
	ca, cb := canonicalHome(a), canonicalHome(b)
	if runtime.GOOS == "windows" {
		return strings.EqualFold(ca, cb)
	}
	return ca == cb
}

// record is a pid record as upstream reads one (gateway.pid, gateway.lock,
// gateway_state.json): any of its fields may be missing.
type record struct {
	obj *object
}

// readRecord is _read_json_file(bare_pid_ok=True).
func readRecord(path string) *record {
	if data, err := os.ReadFile(path); err == nil {
		text := strings.TrimSpace(strings.TrimPrefix(string(data), "\ufeff"))
		if pid, err := strconv.Atoi(text); err == nil {
			o := newObject()
			o.put(gateway.KeyPID, pid)
			return &record{obj: o}
		}
	}
	if o := readObject(path); o != nil {
		return &record{obj: o}
	}
	return nil
}

// intField is int(record[key]): a number, or a string of digits.
func (r *record) intField(key string) (int, bool) {
	if r == nil {
		return 0, false
	}
	raw, ok := r.obj.values[key]
	if !ok {
		return 0, false
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		if i, err := n.Int64(); err == nil {
			return int(i), true
		}
		if f, err := n.Float64(); err == nil {
			return int(f), true
		}
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if i, err := strconv.Atoi(strings.TrimSpace(s)); err == nil {
			return i, true
		}
	}
	return 0, false
}

// startTime is the record's start_time, nil when absent or null.
func (r *record) startTime(key string) *int64 {
	var v *int64
	if r != nil {
		r.obj.get(key, &v)
	}
	return v
}

func (r *record) str(key string) (string, bool) {
	var s string
	if r == nil || !r.obj.get(key, &s) {
		return "", false
	}
	return s, true
}

// startTimesConflict is _start_times_conflict: both known and different.
func startTimesConflict(recorded, current *int64) bool {
	return recorded != nil && current != nil && *recorded != *current
}

// livePID is _live_pid_from_record.
func (r *record) livePID() int {
	pid, ok := r.intField(gateway.KeyPID)
	if !ok || !gateway.Alive(pid) {
		return 0
	}
	if startTimesConflict(r.startTime(keyStartTime), gateway.StartTime(pid)) {
		return 0
	}
	return pid
}

// belongsHere is _pid_record_belongs_to_current_profile: a record without
// hermes_home proves nothing and passes.
func (r *record) belongsHere(home string) bool {
	h, ok := r.str(keyHermesHome)
	return !ok || h == "" || sameHome(h, home)
}

// looksLikeGateway is _record_looks_like_gateway: the fallback when the
// live command line cannot be read.
func (r *record) looksLikeGateway() bool {
	kind, _ := r.str(keyKind)
	var argv []string
	if kind != gateway.PIDKind || !r.obj.get(keyArgv, &argv) || len(argv) == 0 {
		return false
	}
	return looksLikeRuntimeCommandLine(strings.Join(argv, " "))
}

// matchesLiveGateway is _record_matches_live_gateway_pid (unscoped): the
// live command line wins; the record's argv only when it is unreadable.
func (r *record) matchesLiveGateway(pid int) bool {
	cmdline := readCmdline(pid)
	if cmdline == "" {
		return r.looksLikeGateway()
	}
	return looksLikeRuntimeCommandLine(cmdline)
}

// gatewaySubcommand is _gateway_command_subcommand: which gateway verb a
// command line runs, "" when it is no hermes gateway command.
func gatewaySubcommand(command string) string {
	var tokens []string
	for _, t := range strings.Fields(command) {
		t = strings.ToLower(strings.ReplaceAll(strings.Trim(t, `"'`), `\`, "/"))
		tokens = append(tokens, t)
	}
	if len(tokens) == 0 {
		return ""
	}
	base := func(t string) string { return t[strings.LastIndex(t, "/")+1:] }
	hermesEntry := false
	for _, t := range tokens {
		switch b := base(t); {
		case t == "gateway/run.py" || strings.HasSuffix(t, "/gateway/run.py"):
			return "run"
		case b == "hermes-gateway" || b == "hermes-gateway.exe" || b == selfName || b == selfName+".exe":
			return "run"
		case b == "hermes" || b == "hermes.exe" || strings.Contains(t, "hermes_cli.main") || strings.Contains(t, "hermes_cli/main.py"):
			hermesEntry = true
		}
	}
	if !hermesEntry {
		return ""
	}
	var filtered []string
	for i := 0; i < len(tokens); i++ {
		switch t := tokens[i]; {
		case t == "--profile" || t == "-p":
			i++
		case strings.HasPrefix(t, "--profile=") || strings.HasPrefix(t, "-p="):
		default:
			filtered = append(filtered, t)
		}
	}
	for i, t := range filtered {
		if t == "gateway" {
			if i+1 < len(filtered) {
				return filtered[i+1]
			}
			return "run"
		}
	}
	return ""
}

// looksLikeRuntimeCommandLine is looks_like_gateway_runtime_command_line.
func looksLikeRuntimeCommandLine(command string) bool {
	sub := gatewaySubcommand(command)
	return sub == "run" || sub == "restart"
}

// finder answers upstream's "is a gateway running for this home" for the
// home at dir (get_running_pid, unscoped, cleanup_stale=True).
type finder struct {
	dir  string
	home string
}

func (f finder) pidPath() string  { return filepath.Join(f.dir, gateway.PIDFile) }
func (f finder) lockPath() string { return filepath.Join(f.dir, gateway.LockFile) }

// lockActive is is_gateway_runtime_lock_active: a missing lock file is an
// inactive lock (and probing must not create one).
func (f finder) lockActive() bool {
	if _, err := os.Stat(f.lockPath()); errors.Is(err, os.ErrNotExist) {
		return false
	}
	return gateway.Locked(f.dir)
}

// cleanup is _cleanup_invalid_pid_path.
func (f finder) cleanup(unlinkLock bool) {
	_ = os.Remove(f.pidPath())
	if unlinkLock {
		_ = os.Remove(f.lockPath())
	}
}

// runningPID is get_running_pid: the pid of a live gateway for this home,
// 0 when there is none; stale identity files are removed on the way.
func (f finder) runningPID() int {
	if f.lockActive() {
		sawLive, foreignLive := false, false
		for _, r := range []*record{readRecord(f.pidPath()), readRecord(f.lockPath())} {
			if r == nil {
				continue
			}
			pid := r.livePID()
			if pid == 0 {
				continue
			}
			homeOK := r.belongsHere(f.home)
			if homeOK && r.matchesLiveGateway(pid) {
				return pid
			}
			if homeOK {
				sawLive = true
			} else {
				foreignLive = true
			}
		}
		if !sawLive {
			f.cleanup(!foreignLive)
		}
		return f.runtimeStatusPID()
	}
	pid := f.runtimeStatusPID()
	if pid == 0 {
		f.cleanup(true)
	}
	return pid
}

// runtimeStatusPID is get_runtime_status_running_pid: the state file's pid
// when it says the gateway is up and the pid is a live gateway of this home.
func (f finder) runtimeStatusPID() int {
	o := readObject(statePath(f.dir))
	if o == nil {
		return 0
	}
	r := &record{obj: o}
	state, ok := r.str(gateway.KeyGatewayState)
	if !ok || state == "" || state == gateway.GatewayStopped || state == gateway.GatewayStartupFailed {
		return 0
	}
	pid := r.livePID()
	if pid == 0 || !r.belongsHere(f.home) || !r.matchesLiveGateway(pid) {
		return 0
	}
	return pid
}
