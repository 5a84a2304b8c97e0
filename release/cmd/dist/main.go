// Command dist builds hermes's release into a folder: `make dist`.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/nousresearch/hermes-service/release"
)

func main() {
	root := flag.String("root", "..", "the hermes repository")
	out := flag.String("out", "../dist", "where the release goes")
	version := flag.String("version", "", "the version (default: git describe --tags --always)")
	targets := flag.String("targets", "all", "os_arch list, comma separated, or all")
	formats := flag.String("formats", "deb,rpm,apk", "package formats")
	bin := flag.String("bin", "", "only build this machine's binaries (and the plugins' .sha256 files) into this folder, as the release builds them")
	extra := flag.String("extra", "", "with -bin: more main packages (comma separated) to build beside them the same way, e.g. a benchmark's")
	flag.Parse()
	abs, err := filepath.Abs(*root)
	if err != nil {
		fail(err)
	}
	cfg := release.Config{Root: abs, Out: *out, Version: *version, Formats: strings.Split(*formats, ",")}
	if cfg.Version == "" {
		cfg.Version = git(abs, "describe", "--tags", "--always")
	}
	// Every timestamp is the commit's: the same commit, the same bytes.
	epoch, _ := strconv.ParseInt(git(abs, "log", "-1", "--format=%ct"), 10, 64)
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		epoch, _ = strconv.ParseInt(s, 10, 64)
	}
	cfg.Epoch = time.Unix(epoch, 0).UTC()
	if *bin != "" {
		here := release.Target{OS: runtime.GOOS, Arch: runtime.GOARCH}
		if _, err := release.BuildInto(cfg, here, *bin); err != nil {
			fail(err)
		}
		for _, pkg := range strings.FieldsFunc(*extra, func(r rune) bool { return r == ',' }) {
			if err := release.BuildMain(cfg, here, *bin, pkg); err != nil {
				fail(err)
			}
		}
		return
	}
	if *targets == "all" {
		cfg.Targets = release.Targets
	} else {
		for _, t := range strings.Split(*targets, ",") {
			os_, arch, ok := strings.Cut(t, "_")
			if !ok {
				fail(fmt.Errorf("target %q: want os_arch", t))
			}
			cfg.Targets = append(cfg.Targets, release.Target{OS: os_, Arch: arch})
		}
	}
	if err := release.Run(cfg); err != nil {
		fail(err)
	}
	fmt.Printf("dist: %s %s in %s\n", cfg.Version, *targets, cfg.Out)
}

func git(dir string, args ...string) string {
	out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).Output()
	if err != nil {
		return "dev"
	}
	return strings.TrimSpace(string(out))
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "dist:", err)
	os.Exit(1)
}
