package examplerunit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGuideQuotesCompiledCode: every Go block of docs/backend-guide.md that
// names its source on its first line ("// examples/runit/runit.go") is a
// verbatim part of that file, which `make example` compiles and runs.
func TestGuideQuotesCompiledCode(t *testing.T) {
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	guide, err := os.ReadFile(filepath.Join(repo, "docs", "backend-guide.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := strings.Split(string(guide), "```go\n")[1:]
	quoted := 0
	for _, b := range blocks {
		body, _, _ := strings.Cut(b, "```")
		first, rest, _ := strings.Cut(body, "\n")
		src, ok := strings.CutPrefix(first, "// examples/")
		if !ok {
			continue
		}
		code, err := os.ReadFile(filepath.Join(repo, "examples", src))
		if err != nil {
			t.Fatal(err)
		}
		quoted++
		if !strings.Contains(string(code), rest) {
			t.Errorf("the guide quotes examples/%s, which no longer holds:\n%s", src, rest)
		}
	}
	if quoted < 3 {
		t.Errorf("the guide quotes %d blocks of compiled code, want at least 3", quoted)
	}
}
