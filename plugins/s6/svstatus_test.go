//go:build linux

package s6_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/nousresearch/hermes-service/internal/wait"
	"github.com/nousresearch/hermes-service/plugins/s6"
)

// TestStatusFileMatchesSvstat reads s6's status files directly and checks
// every field against what s6-svstat itself prints, across the states a
// slot can be in.
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
	}
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
		"stopped":    func(st s6.SvStatus) bool { return !st.Up },
		"downsignal": func(st s6.SvStatus) bool { return !st.Up },
		"fatal":      func(st s6.SvStatus) bool { return !st.Up && !st.WantedUp },
		"clean":      func(st s6.SvStatus) bool { return !st.Up && !st.WantedUp },
	}
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
