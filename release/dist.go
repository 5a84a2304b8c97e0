// Package release builds what hermes ships: cross-compiled binaries,
// per-plugin checksums, archives per OS and arch, and deb, rpm and apk
// packages (with nfpm), into one folder with a SHA256SUMS over it all.
//
// Everything is reproducible: the same commit gives the same bytes. Builds
// are -trimpath with an empty build id and no VCS stamp; every timestamp in
// an archive or package is the commit's time; file order is sorted.
//
// A packager ships only what a platform needs: the host package `hermes`
// and one package per plugin, each of which installs its binary and its
// own checksum file (<plugin>.sha256) into /usr/lib/hermes/plugins, so
// packages never clash over one SHA256SUMS. The host verifies that checksum
// on every launch.
package release

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/goreleaser/nfpm/v2"
	_ "github.com/goreleaser/nfpm/v2/apk" // registers the apk packager
	_ "github.com/goreleaser/nfpm/v2/deb" // registers the deb packager
	"github.com/goreleaser/nfpm/v2/files"
	_ "github.com/goreleaser/nfpm/v2/rpm" // registers the rpm packager

	"github.com/nousresearch/hermes-service/internal/buildtags"
	"github.com/nousresearch/hermes-service/shared/plugin"
)

// Module is the hermes module's path.
const Module = "github.com/nousresearch/hermes-service"

// Target is one OS and architecture.
type Target struct{ OS, Arch string }

func (t Target) String() string { return t.OS + "_" + t.Arch }

// Targets are the platforms hermes ships for.
var Targets = []Target{{"linux", "amd64"}, {"linux", "arm64"}, {"darwin", "amd64"}, {"darwin", "arm64"}, {"windows", "amd64"}}

// Plugins lists the backends that belong on each OS.
var Plugins = map[string][]string{"linux": {"s6", "systemd"}, "darwin": {"launchd"}, "windows": {"windows"}}

// Config says what to build.
type Config struct {
	Root    string    // the repository
	Out     string    // the dist folder
	Version string    // e.g. v1.2.3 or a git describe
	Epoch   time.Time // every timestamp written: the commit's time
	Targets []Target
	Formats []string // deb, rpm, apk
}

// Run builds everything cfg asks for and writes Out/SHA256SUMS.
func Run(cfg Config) error {
	out, err := filepath.Abs(cfg.Out)
	if err != nil {
		return err
	}
	cfg.Out = out
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return err
	}
	for _, t := range cfg.Targets {
		bins, err := build(cfg, t)
		if err != nil {
			return fmt.Errorf("%s: %w", t, err)
		}
		if err := archive(cfg, t, bins); err != nil {
			return fmt.Errorf("%s archive: %w", t, err)
		}
		if t.OS == "linux" {
			if err := packages(cfg, t, bins); err != nil {
				return fmt.Errorf("%s packages: %w", t, err)
			}
		}
	}
	return writeSums(cfg.Out)
}

// built is one target's binaries, by name, with their paths.
type built struct {
	dir   string
	names []string // hermes first, then the plugins, then their .sha256
}

func exe(t Target, name string) string {
	if t.OS == "windows" {
		return name + ".exe"
	}
	return name
}

func ldflags(cfg Config, plugins []string) string {
	flags := []string{"-s", "-w", "-buildid=", "-X", Module + "/host.Version=" + cfg.Version}
	for _, p := range plugins {
		flags = append(flags, "-X", Module+"/plugins/"+p+".Version="+cfg.Version)
	}
	return strings.Join(flags, " ")
}

func build(cfg Config, t Target) (built, error) {
	return BuildInto(cfg, t, filepath.Join(cfg.Out, "build", t.String()))
}

// BuildInto builds t's binaries into dir exactly as the release ships them
// (static, stripped, reproducible), each plugin with its <plugin>.sha256
// beside it as its package installs it. `make build` uses it for this
// machine, so that what is tested and measured is what ships.
func BuildInto(cfg Config, t Target, dir string) (built, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return built{}, err
	}
	plugins := Plugins[t.OS]
	pkgs := map[string]string{exe(t, "hermes"): "./cmd/hermes"}
	names := []string{exe(t, "hermes")}
	for _, p := range plugins {
		n := plugin.FileName(p, t.OS)
		pkgs[n] = "./plugins/" + p + "/cmd/" + plugin.FilePrefix + p
		names = append(names, n)
	}
	for _, n := range names {
		if err := goBuild(cfg, t, filepath.Join(dir, n), pkgs[n], ldflags(cfg, plugins)); err != nil {
			return built{}, err
		}
	}
	for _, n := range names[1:] {
		sum, err := plugin.FileSHA256(filepath.Join(dir, n))
		if err != nil {
			return built{}, err
		}
		if err := os.WriteFile(filepath.Join(dir, n+".sha256"), []byte(sum+"  "+n+"\n"), 0o644); err != nil {
			return built{}, err
		}
	}
	for _, n := range names[1:] {
		names = append(names, n+".sha256")
	}
	return built{dir: dir, names: names}, nil
}

// BuildMain builds one more main package of the repository (pkg, e.g.
// ./internal/pluginfloor/cmd/floor-host) into dir as the release builds
// its own binaries: a benchmark's anchor is then built no differently from
// what it is compared with.
func BuildMain(cfg Config, t Target, dir, pkg string) error {
	return goBuild(cfg, t, filepath.Join(dir, exe(t, path.Base(pkg))), pkg, ldflags(cfg, nil))
}

// goBuild is the release's one go build: static, stripped, no build id or
// VCS stamp, paths trimmed, with the project's build tags.
func goBuild(cfg Config, t Target, out, pkg, ldflags string) error {
	cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-tags", buildtags.Tags, "-ldflags", ldflags, "-o", out, pkg)
	cmd.Dir = cfg.Root
	cmd.Env = append(os.Environ(), "GOOS="+t.OS, "GOARCH="+t.Arch, "CGO_ENABLED=0", "GOFLAGS=")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", pkg, err, msg)
	}
	return nil
}

func mode(name string) int64 {
	if strings.HasSuffix(name, ".sha256") {
		return 0o644
	}
	return 0o755
}

// archive writes hermes_<version>_<os>_<arch>.tar.gz (zip for Windows)
// holding the host, the OS's plugins and their checksums, with fixed
// owners and timestamps.
func archive(cfg Config, t Target, b built) error {
	base := "hermes_" + cfg.Version + "_" + t.String()
	var buf bytes.Buffer
	if t.OS == "windows" {
		zw := zip.NewWriter(&buf)
		for _, n := range b.names {
			data, err := os.ReadFile(filepath.Join(b.dir, n))
			if err != nil {
				return err
			}
			h := &zip.FileHeader{Name: base + "/" + n, Method: zip.Deflate, Modified: cfg.Epoch}
			h.SetMode(os.FileMode(mode(n)))
			w, err := zw.CreateHeader(h)
			if err != nil {
				return err
			}
			if _, err := w.Write(data); err != nil {
				return err
			}
		}
		if err := zw.Close(); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(cfg.Out, base+".zip"), buf.Bytes(), 0o644)
	}
	gz, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression) // no name, no mtime in the header
	tw := tar.NewWriter(gz)
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: base + "/", Mode: 0o755, ModTime: cfg.Epoch,
		Uname: "root", Gname: "root", Format: tar.FormatPAX}); err != nil {
		return err
	}
	for _, n := range b.names {
		data, err := os.ReadFile(filepath.Join(b.dir, n))
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: base + "/" + n, Mode: mode(n), Size: int64(len(data)),
			ModTime: cfg.Epoch, Uname: "root", Gname: "root", Format: tar.FormatPAX}); err != nil {
			return err
		}
		if _, err := tw.Write(data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := gz.Close(); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(cfg.Out, base+".tar.gz"), buf.Bytes(), 0o644)
}

// pkgVersion turns a git describe into a package version: a tag's semver
// as it is (without the v), else 0.0.0 with the commit as build metadata.
func pkgVersion(v string) (version, meta string) {
	v = strings.TrimPrefix(v, "v")
	if semver.MatchString(v) {
		return v, ""
	}
	meta = "git" + strings.NewReplacer("-", "", ".", "").Replace(v)
	return "0.0.0", meta
}

var semver = regexp.MustCompile(`^\d+\.\d+\.\d+$`)

// depends writes "the host package, this version" the way each format
// spells it.
func depends(format, version string) string {
	switch format {
	case "deb":
		return "hermes (= " + version + ")"
	case "rpm":
		return "hermes = " + version
	default:
		// apk rewrites build metadata into its own version syntax; a plain
		// dependency cannot get the spelling wrong.
		return "hermes"
	}
}

func packages(cfg Config, t Target, b built) error {
	version, meta := pkgVersion(cfg.Version)
	full := version
	if meta != "" {
		full += "+" + meta
	}
	type pkg struct {
		name, desc string
		contents   files.Contents
		plugin     bool
	}
	file := func(src, dst string, m os.FileMode) *files.Content {
		return &files.Content{Source: src, Destination: dst, FileInfo: &files.ContentFileInfo{
			Owner: "root", Group: "root", Mode: m, MTime: cfg.Epoch}}
	}
	list := []pkg{{name: "hermes", desc: "keeps the Hermes messaging gateway running as a service (host; install the plugin for your init system)",
		contents: files.Contents{file(filepath.Join(b.dir, "hermes"), "/usr/bin/hermes", 0o755)}}}
	for _, p := range Plugins["linux"] {
		n := plugin.FileName(p, t.OS)
		list = append(list, pkg{name: plugin.FilePrefix + p, plugin: true, desc: "the " + p + " backend plugin of hermes",
			contents: files.Contents{
				file(filepath.Join(b.dir, n), "/usr/lib/hermes/plugins/"+n, 0o755),
				file(filepath.Join(b.dir, n+".sha256"), "/usr/lib/hermes/plugins/"+n+".sha256", 0o644),
			}})
	}
	for _, format := range cfg.Formats {
		packager, err := nfpm.Get(format)
		if err != nil {
			return err
		}
		for _, p := range list {
			info := &nfpm.Info{Name: p.name, Arch: t.Arch, Platform: "linux", Version: version, VersionMetadata: meta,
				VersionSchema: "none", Section: "admin", Priority: "optional", Maintainer: "Hermes maintainers <hermes@nousresearch.com>",
				Description: p.desc, Homepage: "https://github.com/NousResearch/hermes-agent", License: "MIT", MTime: cfg.Epoch,
				Overridables: nfpm.Overridables{Contents: p.contents}}
			if p.plugin {
				info.Depends = []string{depends(format, full)}
			}
			info = nfpm.WithDefaults(info)
			if err := info.Validate(); err != nil {
				return fmt.Errorf("%s: %w", p.name, err)
			}
			var buf bytes.Buffer
			if err := packager.Package(info, &buf); err != nil {
				return fmt.Errorf("%s.%s: %w", p.name, format, err)
			}
			if err := os.WriteFile(filepath.Join(cfg.Out, packager.ConventionalFileName(info)), buf.Bytes(), 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}

// writeSums writes SHA256SUMS over every file at the top of out.
func writeSums(out string) error {
	entries, err := os.ReadDir(out)
	if err != nil {
		return err
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && e.Name() != "SHA256SUMS" {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		sum, err := plugin.FileSHA256(filepath.Join(out, n))
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s  %s\n", sum, n)
	}
	return os.WriteFile(filepath.Join(out, "SHA256SUMS"), []byte(b.String()), 0o644)
}
