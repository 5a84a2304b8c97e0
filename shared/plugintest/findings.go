package plugintest

import (
	"strings"
	"testing"

	"github.com/nousresearch/hermes-service/shared/service"
)

// Finding is what a test expects of one Diagnose finding: its check, its
// severity, and a part of its detail ("" for any).
type Finding struct {
	Check    string
	Severity service.Severity
	Detail   string
}

// ExpectFindings fails t unless got is want, in order, and every finding
// keeps the contract's rule on fixes: an ok finding has none, a problem
// (an error) has one.
func ExpectFindings(t testing.TB, got []service.Finding, want []Finding) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d findings, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.Check != w.Check || g.Severity != w.Severity || !strings.Contains(g.Detail, w.Detail) {
			t.Errorf("finding %d: %+v, want %+v", i, g, w)
		}
		if (g.Severity == service.SeverityOK && g.Fix != "") || (g.Severity == service.SeverityError && g.Fix == "") {
			t.Errorf("finding %d: a problem needs a fix, and an ok finding has none: %+v", i, g)
		}
	}
}
