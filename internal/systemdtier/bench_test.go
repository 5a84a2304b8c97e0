//go:build linux

package systemdtier

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// statusRounds is how many of each command one measurement runs.
const statusRounds = 30

// TestStatusCost measures `hermes gateway status` for one unit beside
// `systemctl show` of the properties it reads, for the same unit, in the
// same container, each timed in a loop inside it (so that entering the
// container costs neither), and prints both and their ratio. The issue's
// target is a ratio of at most 2.
func TestStatusCost(t *testing.T) {
	m := boot(t, false)
	m.must("", append([]string{bins.hermes, "-p", "work", "gateway", "install", "--system", "--run-as-user", layout.user}, plainArgs()...)...)
	loop := fmt.Sprintf(`a=$(date +%%s%%N); i=0; while [ $i -lt %d ]; do "$@" >/dev/null || exit 1; i=$((i+1)); done; echo $(( ($(date +%%s%%N) - a) / %d ))`,
		statusRounds, statusRounds)
	per := func(argv ...string) int {
		out := m.must("", append([]string{"sh", "-c", loop, "sh"}, argv...)...)
		n, err := strconv.Atoi(strings.TrimSpace(out))
		if err != nil {
			t.Fatalf("%q: %v", out, err)
		}
		return n
	}
	show := []string{"systemctl", "show", "--timestamp=us+utc", "-p",
		"Id,LoadState,ActiveState,SubState,Result,MainPID,ExecMainCode,ExecMainStatus,NRestarts,UnitFileState,StateChangeTimestamp",
		"hermes-gateway-work.service"}
	status := []string{bins.hermes, "-p", "work", "gateway", "status"}
	var s, h int
	for range 3 { // alternated, so that a busy moment weighs on both
		s += per(show...)
		h += per(status...)
	}
	ratio := float64(h) / float64(s)
	fmt.Printf("status cost: hermes gateway status %.1f ms, systemctl show %.1f ms, ratio %.2f (target at most 2)\n",
		float64(h)/3e6, float64(s)/3e6, ratio)
}
