//go:build linux

package s6_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/nousresearch/hermes-service/internal/wait"
	"github.com/nousresearch/hermes-service/plugins/s6"
)

// TestStatusFileMatchesSvstat reads s6's status files directly and checks
// every field against what s6-svstat itself prints, across the states a
// slot can be in: up, down, wanted up (crashing), finishing, exited clean
// or fatally, down by signal, and never started (no supervisor: s6-svok
// and the control FIFO agree there is none).
func TestStatusFileMatchesSvstat(t *testing.T) {
	tr := newTree(t)
	slots := map[string]string{
		"up":         "#!/bin/sh\nexec sleep 1000\n",
		"crashing":   "#!/bin/sh\nexit 3\n",
		"clean":      "#!/bin/sh\nexit 0\n",
		"fatal":      "#!/bin/sh\nexit 78\n",
		"stopped":    "#!/bin/sh\nexec sleep 1000\n",
		"neverup":    "#!/bin/sh\nexec sleep 1000\n",
		"downsignal": "#!/bin/sh\nexec sleep 1000\n",
		"finishing":  "#!/bin/sh\nexit 3\n",
	}
	finish := "#!/bin/sh\nif [ \"$1\" = 78 ] || [ \"$1\" = 0 ]; then exit 125; fi\nexit 0\n"
	for name, run := range slots {
		dir := filepath.Join(tr.scandir, "gateway-"+name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		_ = os.WriteFile(filepath.Join(dir, "run"), []byte(run), 0o755)
		_ = os.WriteFile(filepath.Join(dir, "finish"), []byte(finish), 0o755)
		if name == "neverup" {
			_ = os.WriteFile(filepath.Join(dir, "down"), nil, 0o644)
		}
		if name == "finishing" {
			// A finish script that does not end (the first time), with no
			// finish timeout: the slot stays in s6's "finishing" state
			// until the test ends the script by its recorded pid.
			script := "#!/bin/sh\nif [ ! -e hung ]; then : >hung; echo $$ >finish.pid; exec sleep 1000 </dev/null >/dev/null 2>&1; fi\nexit 125\n"
			_ = os.WriteFile(filepath.Join(dir, "finish"), []byte(script), 0o755)
			_ = os.WriteFile(filepath.Join(dir, "timeout-finish"), []byte("0\n"), 0o644)
			t.Cleanup(func() {
				if data, err := os.ReadFile(filepath.Join(dir, "finish.pid")); err == nil {
					var pid int
					if _, err := fmt.Sscan(string(data), &pid); err == nil && pid > 1 {
						_ = syscall.Kill(pid, syscall.SIGKILL)
					}
				}
			})
		}
	}
	// A slot s6-svscan has not been told about: no supervisor.
	never := filepath.Join(tr.scandir, ".gateway-unsupervised")
	if err := os.MkdirAll(never, 0o755); err != nil {
		t.Fatal(err)
	}
	_ = os.WriteFile(filepath.Join(never, "run"), []byte("#!/bin/sh\nexec sleep 1000\n"), 0o755)
	if err := exec.Command("s6-svscanctl", "-a", tr.scandir).Run(); err != nil {
		t.Fatal(err)
	}
	for name := range slots {
		tr.waitFor(name+" supervised", func() bool { return tr.svstat(name, "up") != nil })
	}
	tr.waitFor("up to run", func() bool { return tr.svstat("up", "up")["up"] == "true" })
	_ = exec.Command("s6-svc", "-d", tr.slot("stopped")).Run()
	tr.waitFor("downsignal to run", func() bool { return tr.svstat("downsignal", "up")["up"] == "true" })
	_ = exec.Command("s6-svc", "-d", tr.slot("downsignal")).Run()
	// The slots told to go down, and those whose finish script gave up
	// (exit 125), settle down.
	settled := map[string]func(s6.SvStatus) bool{
		"finishing":  func(st s6.SvStatus) bool { return !st.Up && st.PID == -1 && st.WantedUp },
		"stopped":    func(st s6.SvStatus) bool { return !st.Up },
		"downsignal": func(st s6.SvStatus) bool { return !st.Up },
		"fatal":      func(st s6.SvStatus) bool { return !st.Up && !st.WantedUp },
		"clean":      func(st s6.SvStatus) bool { return !st.Up && !st.WantedUp },
	}
	tr.waitFor("the finish script to hang", func() bool {
		_, err := os.Stat(filepath.Join(tr.slot("finishing"), "finish.pid"))
		return err == nil
	})
	for name, down := range settled {
		tr.waitFor(name+" to stay down", func() bool {
			st, err := s6.ReadStatusFile(tr.slot(name))
			return err == nil && down(st)
		})
	}

	for name := range slots {
		// A crashing slot changes under us: compare until both reads agree.
		var file, tool s6.SvStatus
		err := wait.Poll{What: name + "'s status file and s6-svstat to agree", Timeout: 2 * time.Second}.Until(context.Background(), func() (bool, error) {
			var err error
			if file, err = s6.ReadStatusFile(tr.slot(name)); err != nil {
				return false, err
			}
			out, err := exec.Command("s6-svstat", "-o", s6.SvstatFields, tr.slot(name)).Output()
			if err != nil {
				return false, fmt.Errorf("s6-svstat: %w", err)
			}
			if tool, err = s6.ParseSvstat(string(out)); err != nil {
				return false, err
			}
			return file == tool, nil
		})
		if errors.Is(err, wait.ErrTimeout) {
			t.Errorf("%s: status file %+v\n  s6-svstat    %+v", name, file, tool)
		} else if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if file.Since.IsZero() || time.Since(file.Since) > time.Minute || time.Since(file.Since) < -time.Second {
			t.Errorf("%s: since %v is not a recent time: the TAI offset is off", name, file.Since)
		}
	}
	// Whether a supervisor runs, as the single-profile status tells it
	// (the control FIFO has a reader), against s6-svok.
	for _, slot := range append(slotPaths(tr, slots), never) {
		running, err := s6.SuperviseRunning(slot)
		if err != nil {
			t.Fatalf("%s: %v", slot, err)
		}
		if svok := exec.Command("s6-svok", slot).Run() == nil; running != svok {
			t.Errorf("%s: control FIFO says running=%t, s6-svok says %t", slot, running, svok)
		}
	}
	if _, err := s6.ReadStatusFile(never); err == nil {
		t.Error("a slot never supervised has a status")
	}
	if err := exec.Command("s6-svstat", never).Run(); err == nil {
		t.Error("s6-svstat reads a status for a slot never supervised")
	}
	// The states themselves, as the backend maps them.
	if st, _ := s6.ReadStatusFile(tr.slot("fatal")); st.Up || st.WantedUp || st.ExitCode != 78 {
		t.Errorf("fatal: %+v", st)
	}
	if st, _ := s6.ReadStatusFile(tr.slot("neverup")); st.Up || st.NormallyUp {
		t.Errorf("neverup: %+v", st)
	}
	if st, _ := s6.ReadStatusFile(tr.slot("downsignal")); st.Up || st.ExitCode != -1 {
		t.Errorf("downsignal: %+v", st)
	}
}

func slotPaths(tr *tree, slots map[string]string) []string {
	var out []string
	for name := range slots {
		out = append(out, tr.slot(name))
	}
	return out
}
