package gateway

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestProfileDirs(t *testing.T) {
	h := Home{Root: "/srv/hermes"}
	tests := []struct {
		profile, dir string
	}{
		{"default", "/srv/hermes"},
		{"work", "/srv/hermes/profiles/work"},
	}
	for _, tt := range tests {
		got, err := h.ProfileDir(tt.profile)
		if err != nil || filepath.ToSlash(got) != tt.dir {
			t.Errorf("ProfileDir(%q) = %q, %v", tt.profile, got, err)
		}
		back, ok := h.ProfileOf(got)
		if !ok || back != tt.profile {
			t.Errorf("ProfileOf(%q) = %q, %v", got, back, ok)
		}
	}
	if _, err := h.ProfileDir("../x"); err == nil {
		t.Error("ProfileDir accepted ../x")
	}
	for _, dir := range []string{"/srv/hermes/profiles/default", "/srv/hermes/profiles/Bad", "/srv/hermes/other/work", "/srv"} {
		if p, ok := h.ProfileOf(dir); ok {
			t.Errorf("ProfileOf(%q) = %q", dir, p)
		}
	}
}

func TestProfilesList(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"profiles/work", "profiles/alpha", "profiles/default", "profiles/Bad", "profiles/.hidden"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "profiles", "file"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := Home{Root: root}.Profiles()
	if err != nil || strings.Join(got, ",") != "default,alpha,work" {
		t.Fatalf("got %v %v", got, err)
	}
	got, err = Home{Root: filepath.Join(root, "none")}.Profiles()
	if err != nil || strings.Join(got, ",") != "default" {
		t.Fatalf("empty home: %v %v", got, err)
	}
}

func pinClock(t *testing.T, at time.Time) {
	old := now
	now = func() time.Time { return at }
	t.Cleanup(func() { now = old })
}

func TestStateMergeKeepsUnknownFieldsAndOrder(t *testing.T) {
	dir := t.TempDir()
	pinClock(t, time.Date(2026, 11, 25, 12, 0, 0, 123456000, time.UTC))
	python := `{"pid":41,"kind":"hermes-gateway","gateway_state":"running","platforms":{"telegram":{"state":"connected"}},"note":"café <&>","updated_at":1764000000}`
	if err := os.WriteFile(filepath.Join(dir, StateFile), []byte(python), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := UpdateState(dir, map[string]any{KeyDesiredState: "stopped", KeyGatewayState: "stopped"}); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(dir, StateFile))
	want := `{"pid":41,"kind":"hermes-gateway","gateway_state":"stopped","platforms":{"telegram":{"state":"connected"}},"note":"café <&>","updated_at":"2026-11-25T12:00:00.123456+00:00","desired_state":"stopped"}`
	if string(data) != want {
		t.Fatalf("got  %s\nwant %s", data, want)
	}
	info, _ := os.Stat(filepath.Join(dir, StateFile))
	if info.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want the existing 0600 kept", info.Mode().Perm())
	}
	st, err := ReadState(dir)
	if err != nil || st.DesiredState() != "stopped" || st.GatewayState() != "stopped" || st.PID() != 41 {
		t.Fatalf("read back %v %q %q %d", err, st.DesiredState(), st.GatewayState(), st.PID())
	}
	if at, ok := st.UpdatedAt(); !ok || !at.Equal(time.Date(2026, 11, 25, 12, 0, 0, 123456000, time.UTC)) {
		t.Fatalf("updated_at %v %v", at, ok)
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, "*.tmp"))
	hidden, _ := filepath.Glob(filepath.Join(dir, ".*.tmp"))
	if len(leftovers)+len(hidden) != 0 {
		t.Fatalf("temporary files left: %v %v", leftovers, hidden)
	}
}

func TestStateReadsNoStateFromBadFiles(t *testing.T) {
	tests := map[string]string{
		"missing": "",
		"empty":   "\x00",
		"blank":   "  \n",
		"corrupt": `{"gateway_state": "runn`,
		"array":   `["running"]`,
		"binary":  "\xff\xfe\x00garbage",
		"trailer": `{"a":1} {"b":2}`,
	}
	for name, content := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if name != "missing" {
				if content == "\x00" {
					content = ""
				}
				if err := os.WriteFile(filepath.Join(dir, StateFile), []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			st, err := ReadState(dir)
			if err != nil || st.Exists() || st.GatewayState() != "" || st.PID() != 0 {
				t.Fatalf("got %+v %v", st, err)
			}
			// And a merge over it starts afresh instead of failing.
			if err := SetDesiredState(dir, "running"); err != nil {
				t.Fatal(err)
			}
			st, _ = ReadState(dir)
			if st.DesiredState() != "running" || strings.Join(st.Keys(), ",") != "desired_state,updated_at" {
				t.Fatalf("after merge: %v", st.Keys())
			}
		})
	}
}

func TestUpdatedAtForms(t *testing.T) {
	want := time.Date(2025, 11, 24, 16, 0, 0, 0, time.UTC)
	for _, raw := range []string{
		`"2025-11-24T16:00:00+00:00"`, `"2025-11-24T16:00:00.000000+00:00"`, `"2025-11-24T16:00:00Z"`,
		`"2025-11-24T17:00:00+01:00"`, `"2025-11-24T16:00:00"`, `1764000000`, `1764000000.0`,
	} {
		got, ok := parseTimestamp(json.RawMessage(raw))
		if !ok || !got.Equal(want) {
			t.Errorf("%s: got %v %v", raw, got, ok)
		}
	}
	for _, raw := range []string{`"yesterday"`, `null`, `true`, `-5`, `{}`} {
		if got, ok := parseTimestamp(json.RawMessage(raw)); ok {
			t.Errorf("%s: accepted as %v", raw, got)
		}
	}
}

func TestPIDRecordRoundTrip(t *testing.T) {
	dir := t.TempDir()
	st := int64(12345)
	r := PIDRecord{PID: 42, Kind: PIDKind, Argv: []string{"/usr/bin/hermes", "-p", "work", "gateway", "run"}, StartTime: &st, HermesHome: "/srv/hermes/profiles/work"}
	if err := WritePIDRecord(dir, r); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(dir, PIDFile))
	want := `{"pid": 42, "kind": "hermes-gateway", "argv": ["/usr/bin/hermes", "-p", "work", "gateway", "run"], "start_time": 12345, "hermes_home": "/srv/hermes/profiles/work"}`
	if string(data) != want {
		t.Fatalf("got  %s\nwant %s", data, want)
	}
	back, err := ReadPIDRecord(dir)
	if err != nil || back == nil || back.PID != 42 || *back.StartTime != 12345 || back.HermesHome != r.HermesHome || len(back.Argv) != 5 {
		t.Fatalf("read back %+v %v", back, err)
	}
	for content, pid := range map[string]int{"77\n": 77, `{"pid": 78}`: 78, "garbage": 0, "": 0, `{"pid": -1}`: 0} {
		if err := os.WriteFile(filepath.Join(dir, PIDFile), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := ReadPIDRecord(dir)
		if err != nil || (pid == 0) != (got == nil) || (got != nil && got.PID != pid) {
			t.Errorf("%q: got %+v %v", content, got, err)
		}
	}
	if err := RemovePIDRecord(dir, 1); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, PIDFile))
	if got, err := ReadPIDRecord(dir); got != nil || err != nil {
		t.Fatalf("missing: %+v %v", got, err)
	}
}

func TestPIDRecordStale(t *testing.T) {
	self := NewPIDRecord("/h")
	if why := self.Stale(); why != "" {
		t.Fatalf("own record stale: %s", why)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	dead := PIDRecord{PID: cmd.Process.Pid}
	if why := dead.Stale(); !strings.Contains(why, "gone") {
		t.Fatalf("dead pid: %q", why)
	}
	if self.StartTime != nil {
		other := *self.StartTime + 1
		reused := PIDRecord{PID: self.PID, StartTime: &other}
		if why := reused.Stale(); !strings.Contains(why, "another process") {
			t.Fatalf("reused pid: %q", why)
		}
	}
}

func writeRawMarker(t *testing.T, dir string, m map[string]any) {
	t.Helper()
	data, _ := json.Marshal(m)
	if err := os.WriteFile(filepath.Join(dir, PlannedStopFile), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestMarkerRules(t *testing.T) {
	self := os.Getpid()
	selfStart := StartTime(self)
	fresh := isoNow(time.Now())
	tests := []struct {
		name      string
		marker    map[string]any // nil: none; "raw" key: literal content
		planned   bool
		remaining bool
	}{
		{name: "none", planned: false, remaining: false},
		{name: "own pid", marker: map[string]any{"target_pid": self, "target_start_time": selfStart, "stopper_pid": 1, "written_at": fresh},
			planned: true, remaining: false},
		{name: "own pid, start time unknown", marker: map[string]any{"target_pid": self, "target_start_time": nil, "stopper_pid": 1, "written_at": fresh},
			planned: true, remaining: false},
		{name: "another pid is left alone", marker: map[string]any{"target_pid": self + 100000, "target_start_time": nil, "stopper_pid": 1, "written_at": fresh},
			planned: false, remaining: true},
		{name: "expired", marker: map[string]any{"target_pid": self, "target_start_time": selfStart, "stopper_pid": 1, "written_at": isoNow(time.Now().Add(-61 * time.Second))},
			planned: false, remaining: false},
		{name: "expired for another pid is removed too", marker: map[string]any{"target_pid": self + 100000, "stopper_pid": 1, "written_at": isoNow(time.Now().Add(-2 * time.Minute))},
			planned: false, remaining: false},
		{name: "a little in the future (clock skew)", marker: map[string]any{"target_pid": self, "target_start_time": selfStart, "stopper_pid": 1, "written_at": isoNow(time.Now().Add(3 * time.Second))},
			planned: true, remaining: false},
		// A marker dated ahead would make every stop from outside until then
		// an operator's: nobody's, and removed.
		{name: "far in the future", marker: map[string]any{"target_pid": self, "target_start_time": selfStart, "stopper_pid": 1, "written_at": isoNow(time.Now().Add(time.Hour))},
			planned: false, remaining: false},
		{name: "unparsable time", marker: map[string]any{"target_pid": self, "written_at": "soon"}, planned: false, remaining: false},
		{name: "no target", marker: map[string]any{"written_at": fresh}, planned: false, remaining: false},
		{name: "corrupt", marker: map[string]any{"raw": "{not json"}, planned: false, remaining: false},
	}
	if selfStart != nil {
		tests = append(tests, struct {
			name      string
			marker    map[string]any
			planned   bool
			remaining bool
		}{name: "start time mismatch (pid reuse)", marker: map[string]any{"target_pid": self, "target_start_time": *selfStart - 1, "stopper_pid": 1, "written_at": fresh},
			planned: false, remaining: false})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if raw, ok := tt.marker["raw"]; ok {
				if err := os.WriteFile(filepath.Join(dir, PlannedStopFile), []byte(raw.(string)), 0o644); err != nil {
					t.Fatal(err)
				}
			} else if tt.marker != nil {
				writeRawMarker(t, dir, tt.marker)
			}
			before := ProbeMarker(dir, self)
			_, statErr := os.Stat(filepath.Join(dir, PlannedStopFile))
			if before != tt.planned || (tt.marker != nil && statErr != nil) {
				t.Fatalf("probe = %v (want %v), or it removed the marker: %v", before, tt.planned, statErr)
			}
			if got := ConsumeMarker(dir, self); got != tt.planned {
				t.Fatalf("consume = %v, want %v", got, tt.planned)
			}
			_, err := os.Stat(filepath.Join(dir, PlannedStopFile))
			if remaining := err == nil; remaining != tt.remaining {
				t.Fatalf("marker remaining = %v, want %v", remaining, tt.remaining)
			}
		})
	}
}

func TestWriteMarkerFormat(t *testing.T) {
	dir := t.TempDir()
	pinClock(t, time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))
	if !MarkPlannedStop(nil, dir, 4242) {
		t.Fatal("marker not written")
	}
	data, _ := os.ReadFile(filepath.Join(dir, PlannedStopFile))
	want := `{"target_pid":4242,"target_start_time":` + startTimeJSON(4242) + `,"stopper_pid":` + itoa(os.Getpid()) + `,"written_at":"2026-11-25T12:00:00.000000+00:00","trigger_watcher":false}`
	if string(data) != want {
		t.Fatalf("got  %s\nwant %s", data, want)
	}
	// A marker for upstream's watcher (no signal follows) leaves out
	// trigger_watcher: false, so the watcher acts on it.
	if err := WriteWatchedMarker(dir, 4242); err != nil {
		t.Fatal(err)
	}
	data, _ = os.ReadFile(filepath.Join(dir, PlannedStopFile))
	if want := strings.TrimSuffix(want, `,"trigger_watcher":false}`) + "}"; string(data) != want {
		t.Fatalf("watched: got  %s\nwant %s", data, want)
	}
	// Best effort: a folder that cannot hold the marker reports false.
	blocker := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if MarkPlannedStop(nil, filepath.Join(blocker, "sub"), 4242) {
		t.Fatal("reported success writing under a file")
	}
	if MarkPlannedStop(nil, dir, 0) {
		t.Fatal("marked pid 0")
	}
}

func startTimeJSON(pid int) string {
	if st := StartTime(pid); st != nil {
		return itoa(int(*st))
	}
	return "null"
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

func TestLock(t *testing.T) {
	dir := t.TempDir()
	l, ok, err := TryLock(dir)
	if err != nil || !ok {
		t.Fatalf("first lock: %v %v", ok, err)
	}
	if !Locked(dir) {
		t.Fatal("Locked says free while held")
	}
	// Another process cannot take it.
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockHelper$")
	cmd.Env = append(os.Environ(), "GATEWAY_TEST_LOCK_DIR="+dir)
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "held") {
		t.Fatalf("second process took the lock: %v %s", err, out)
	}
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
	if Locked(dir) {
		t.Fatal("still locked after unlock")
	}
}

func TestLockHelper(t *testing.T) {
	dir := os.Getenv("GATEWAY_TEST_LOCK_DIR")
	if dir == "" {
		t.Skip("helper")
	}
	if _, ok, _ := TryLock(dir); !ok {
		t.Fatal("held")
	}
}

func TestRunnerFlagsGoBeforeTheProgram(t *testing.T) {
	tests := []struct {
		argv, want []string
		protocol   string
	}{
		{[]string{"/h", "gateway", "run"}, []string{"/h", "gateway", "run", "--replace"}, ""},
		{[]string{"/h", "gateway", "run", "--protocol", "plain", "--", "/g", "--x"},
			[]string{"/h", "gateway", "run", "--protocol", "plain", "--replace", "--", "/g", "--x"}, "plain"},
		{[]string{"/h", "gateway", "run", "--", "/g", "--protocol", "hermes"},
			[]string{"/h", "gateway", "run", "--replace", "--", "/g", "--protocol", "hermes"}, ""},
	}
	for _, tt := range tests {
		if got := AddRunnerFlags(tt.argv, FlagReplace); strings.Join(got, " ") != strings.Join(tt.want, " ") {
			t.Errorf("AddRunnerFlags(%q) = %q", tt.argv, got)
		}
		if got := RunnerProtocol(tt.argv); got != tt.protocol {
			t.Errorf("RunnerProtocol(%q) = %q, want %q", tt.argv, got, tt.protocol)
		}
	}
}

// TestStateWritersDoNotLoseEachOthersFields: hermes's writers serialise,
// so every field written by many of them at once is there at the end; and
// no lock file is left in the profile folder for root to make unwritable.
func TestStateWritersDoNotLoseEachOthersFields(t *testing.T) {
	dir := t.TempDir()
	const writers = 16
	errs := make(chan error, writers)
	for i := range writers {
		go func() { errs <- UpdateState(dir, map[string]any{"field_" + itoa(i): i}) }()
	}
	for range writers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	st, _ := ReadState(dir)
	for i := range writers {
		if st.Raw("field_"+itoa(i)) == nil {
			t.Errorf("field_%d lost", i)
		}
	}
	if runtime.GOOS == "windows" {
		return // Windows cannot lock a folder: its lock is a file
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name() != StateFile {
			t.Errorf("%s left beside the state", e.Name())
		}
	}
}

// TestDrainWithin: the runner's child timeout fits inside every budget an
// operator may choose, with a margin for the runner's teardown, and the
// default budget gives upstream's drain.
func TestDrainWithin(t *testing.T) {
	for _, tt := range []struct{ budget, want time.Duration }{
		{0, Drain},
		{-time.Second, Drain},
		{StopBudget, Drain},
		{MinStopBudget, 6 * time.Second},
		{30 * time.Second, 20 * time.Second},
		{45 * time.Second, 30 * time.Second},
		{2 * time.Minute, 90 * time.Second},
		{MaxStopBudget, time.Hour - 30*time.Second},
	} {
		if got := DrainWithin(tt.budget); got != tt.want {
			t.Errorf("DrainWithin(%s) = %s, want %s", tt.budget, got, tt.want)
		}
	}
	for budget := MinStopBudget; budget <= MaxStopBudget; budget += 7 * time.Second {
		drain := DrainWithin(budget)
		if margin := budget - drain; drain <= 0 || margin < budget/3 && margin < 30*time.Second || drain%time.Second != 0 {
			t.Fatalf("DrainWithin(%s) = %s leaves no proper margin", budget, drain)
		}
	}
	if StopBudgetOf(0) != StopBudget || StopBudgetOf(2*time.Minute) != 2*time.Minute {
		t.Fatal("StopBudgetOf")
	}
	for d, want := range map[time.Duration]string{Drain: "60s", 6 * time.Second: "6s", 1500 * time.Millisecond: "1.5s"} {
		if got := DurationText(d); got != want {
			t.Errorf("DurationText(%s) = %q, want %q", d, got, want)
		}
		if back, err := time.ParseDuration(DurationText(d)); err != nil || back != d {
			t.Errorf("%q does not parse back: %v %v", DurationText(d), back, err)
		}
	}
}
