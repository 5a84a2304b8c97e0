package main

import (
	"bufio"
	"bytes"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/nousresearch/hermes-service"

// testOnly are packages that exist for tests. hermes is what users run, so
// it must not link them: testing would drag its runner along, and the
// helpers fake init systems and build binaries on the fly.
var testOnly = []string{
	"testing",
	module + "/shared/plugintest",
	module + "/internal/fakecmd",
	module + "/internal/proctest",
	module + "/internal/testbackend",
	module + "/internal/testbin",
	module + "/internal/testgateway",
	"github.com/rogpeppe/go-internal/testscript",
}

// importEdge is one import: package from imports package to.
type importEdge struct{ from, to string }

// tolerated are the imports of test-only packages that hermes cannot avoid
// today, each with why. Keep it short: an entry that no longer holds fails
// the test, so the rule tightens by itself when upstream fixes it.
var tolerated = map[importEdge]string{
	{"github.com/hashicorp/go-plugin", "testing"}: "go-plugin (v1.8.0, the newest) declares TestPluginGRPCConn " +
		"and friends in testing.go of its root package, which Launch needs; only testing's package " +
		"initialisation is linked, not its flags or runner",
}

// TestHermesLinksNoTestCode keeps `hermes` free of test code on every OS it
// ships for: none of its dependencies may import a test-only package, apart
// from the tolerated imports above. The message names the import chain.
func TestHermesLinksNoTestCode(t *testing.T) {
	for _, goos := range []string{"linux", "windows", "darwin"} {
		t.Run(goos, func(t *testing.T) {
			imports := listDeps(t, goos)
			for _, forbidden := range testOnly {
				for _, from := range slices.Sorted(maps.Keys(imports)) {
					if !slices.Contains(imports[from], forbidden) {
						continue
					}
					if _, ok := tolerated[importEdge{from, forbidden}]; ok {
						continue
					}
					t.Errorf("hermes links %s: %s", forbidden, strings.Join(append(chainTo(imports, from), forbidden), " -> "))
				}
			}
			for e := range tolerated {
				if to, ok := imports[e.from]; ok && !slices.Contains(to, e.to) {
					t.Errorf("%s no longer imports %s: remove it from tolerated", e.from, e.to)
				}
			}
		})
	}
}

// listDeps returns every package hermes builds from for goos, each with the
// packages it imports, as `go list -deps` reports them.
func listDeps(t *testing.T, goos string) map[string][]string {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), "go", "list", "-deps", "-f", "{{.ImportPath}}{{range .Imports}} {{.}}{{end}}", ".")
	cmd.Env = append(os.Environ(), "GOOS="+goos)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps for %s: %v\n%s", goos, err, stderr.Bytes())
	}
	imports := map[string][]string{}
	lines := bufio.NewScanner(bytes.NewReader(out))
	for lines.Scan() {
		fields := strings.Fields(lines.Text())
		if len(fields) > 0 {
			imports[fields[0]] = fields[1:]
		}
	}
	if _, ok := imports[module+"/cmd/hermes"]; !ok {
		t.Fatalf("go list -deps for %s does not list hermes itself:\n%s", goos, out)
	}
	return imports
}

// chainTo returns a shortest import chain from hermes to pkg.
func chainTo(imports map[string][]string, pkg string) []string {
	root := module + "/cmd/hermes"
	prev := map[string]string{root: ""}
	queue := []string{root}
	for len(queue) > 0 && queue[0] != pkg {
		p := queue[0]
		queue = queue[1:]
		for _, next := range imports[p] {
			if _, seen := prev[next]; !seen {
				prev[next] = p
				queue = append(queue, next)
			}
		}
	}
	if _, reached := prev[pkg]; !reached {
		return []string{pkg}
	}
	var chain []string
	for p := pkg; p != ""; p = prev[p] {
		chain = append(chain, p)
	}
	slices.Reverse(chain)
	return chain
}
