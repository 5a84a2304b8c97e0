//go:build linux

package s6_test

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/nousresearch/hermes-service/shared/gateway"
	"github.com/nousresearch/hermes-service/shared/service"
)

// TestConcurrentLifecycleCallsAgree: start, stop and restart on one
// profile from separate hermes processes at once (issue 17). Each call
// writes the operator's intent (desired_state) and the slot's down file
// and tells s6; unserialised, the last intent written and the last down
// file made could come from different calls, leaving desired_state
// stopped with no down file (the gateway comes back at the next
// supervisor start) or the reverse. After every round the three must
// agree: desired_state stopped <=> down file <=> s6 not wanting it up.
func TestConcurrentLifecycleCallsAgree(t *testing.T) {
	tr := newTree(t)
	tr.register("work")
	// A SIGTERM that reaches a runner s6 has only just started is at times
	// not acted on (a separate matter: hermes's own SIGTERM handling is in
	// place before the runner's, and cancels a context the runner does not
	// watch); the stop then waits for s6's SIGKILL at timeout-kill. One
	// second of it, not the stop budget, keeps such rounds short.
	if err := os.WriteFile(filepath.Join(tr.slot("work"), "timeout-kill"), []byte("1000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tr.waitUp("work")
	const rounds, calls = 10, 8
	verbs := []string{"start", "stop", "restart"}
	for round := range rounds {
		var wg sync.WaitGroup
		did := make([]string, calls)
		for i := range calls {
			did[i] = verbs[rand.IntN(len(verbs))]
			wg.Add(1)
			go func() {
				defer wg.Done()
				t0 := time.Now()
				// --no-wait: a stop's wait for "stopped" would time out
				// whenever a later start won the race, which is the point.
				out, errOut, code := tr.hermes("-p", "work", "gateway", did[i], "--no-wait")
				if d := time.Since(t0); d > 2*time.Second {
					t.Logf("round %d: gateway %s took %s", round, did[i], d.Round(time.Millisecond))
				}
				if code != 0 {
					t.Errorf("round %d: gateway %s: exit %d\n%s%s", round, did[i], code, out, errOut)
				}
			}()
		}
		wg.Wait()
		st, err := gateway.ReadState(tr.profileDir("work"))
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		stopped := st.DesiredState() == service.DesiredStopped
		_, err = os.Lstat(filepath.Join(tr.slot("work"), "down"))
		down := err == nil
		wantedUp := tr.svstat("work", "wantedup")["wantedup"]
		t.Logf("round %d: %v -> desired_state %q, down file %v, wantedup %s", round, did, st.DesiredState(), down, wantedUp)
		if stopped != down {
			t.Errorf("round %d (%v): desired_state %q but down file present=%v", round, did, st.DesiredState(), down)
		}
		if want := map[bool]string{true: "false", false: "true"}[stopped]; wantedUp != want {
			t.Errorf("round %d (%v): desired_state %q but s6 wantedup=%s", round, did, st.DesiredState(), wantedUp)
		}
		if t.Failed() {
			return
		}
	}
}
