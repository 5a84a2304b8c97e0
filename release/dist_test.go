package release

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nousresearch/hermes-service/internal/testbin"
)

// TestDist builds the linux/amd64 release twice and checks what a packager
// and an operator get: identical bytes, packages with the right metadata,
// and, once unpacked, a hermes that finds its s6 plugin verified and
// refuses it after one flipped byte.
func TestDist(t *testing.T) {
	if _, err := exec.LookPath("dpkg-deb"); err != nil {
		t.Skip("needs dpkg-deb (Debian)")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Root: root, Version: "v1.2.3", Epoch: time.Unix(1764000000, 0).UTC(),
		Targets: []Target{{"linux", "amd64"}}, Formats: []string{"deb", "rpm", "apk"}}
	first, second := t.TempDir(), t.TempDir()
	for _, out := range []string{first, second} {
		cfg.Out = out
		if err := Run(cfg); err != nil {
			t.Fatal(err)
		}
	}

	// Reproducible: the same commit, the same bytes, file for file.
	sums1, _ := os.ReadFile(filepath.Join(first, "SHA256SUMS"))
	sums2, _ := os.ReadFile(filepath.Join(second, "SHA256SUMS"))
	if len(sums1) == 0 || !bytes.Equal(sums1, sums2) {
		t.Fatalf("two builds differ:\n%s\n---\n%s", sums1, sums2)
	}
	for _, want := range []string{"hermes_1.2.3_amd64.deb", "hermes-service-s6_1.2.3_amd64.deb", "hermes-service-systemd_1.2.3_amd64.deb",
		"hermes-1.2.3-1.x86_64.rpm", "hermes-service-s6_1.2.3_x86_64.apk", "hermes_v1.2.3_linux_amd64.tar.gz"} {
		if !strings.Contains(string(sums1), "  "+want+"\n") {
			t.Errorf("SHA256SUMS lacks %s:\n%s", want, sums1)
		}
	}

	deb := func(args ...string) string {
		out, err := exec.Command("dpkg-deb", args...).CombinedOutput()
		if err != nil {
			t.Fatalf("dpkg-deb %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	hostDeb, s6Deb := filepath.Join(first, "hermes_1.2.3_amd64.deb"), filepath.Join(first, "hermes-service-s6_1.2.3_amd64.deb")
	info := deb("--info", s6Deb)
	for _, want := range []string{"Package: hermes-service-s6", "Version: 1.2.3", "Architecture: amd64", "Depends: hermes (= 1.2.3)"} {
		if !strings.Contains(info, want) {
			t.Errorf("s6 deb info lacks %q:\n%s", want, info)
		}
	}
	if info := deb("--info", hostDeb); !strings.Contains(info, "Package: hermes\n") || strings.Contains(info, "Depends:") {
		t.Errorf("host deb info:\n%s", info)
	}
	contents := deb("--contents", s6Deb)
	for _, want := range []string{"./usr/lib/hermes/plugins/hermes-service-s6\n", "./usr/lib/hermes/plugins/hermes-service-s6.sha256\n", "-rwxr-xr-x root/root"} {
		if !strings.Contains(contents, want) {
			t.Errorf("s6 deb contents lack %q:\n%s", want, contents)
		}
	}
	if contents := deb("--contents", hostDeb); !strings.Contains(contents, "./usr/bin/hermes\n") {
		t.Errorf("host deb contents:\n%s", contents)
	}

	// Unpacked into a root, hermes finds the plugin beside itself
	// (../lib/hermes/plugins) and verifies it.
	// (Not under the world-writable /tmp, which plugin trust refuses.)
	sysroot, err := testbin.TrustedTemp("sysroot-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sysroot) })
	deb("-x", hostDeb, sysroot)
	deb("-x", s6Deb, sysroot)
	hermes := filepath.Join(sysroot, "usr", "bin", "hermes")
	run := func(args ...string) (string, string, int) {
		cmd := exec.Command(hermes, args...)
		cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + t.TempDir(), "HERMES_HOME=" + t.TempDir()}
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		return stdout.String(), stderr.String(), code
	}
	out, errOut, code := run("gateway", "plugins", "--json")
	var plugins []struct {
		Kind, Path, Checksum string
		Verified             bool
		Version              *string
	}
	if code != 0 || json.Unmarshal([]byte(out), &plugins) != nil || len(plugins) != 1 {
		t.Fatalf("plugin list: %d %s %s", code, out, errOut)
	}
	p := plugins[0]
	if p.Kind != "s6" || !p.Verified || p.Checksum != "verified" || p.Version == nil || *p.Version != "v1.2.3" ||
		p.Path != filepath.Join(sysroot, "usr", "lib", "hermes", "plugins", "hermes-service-s6") {
		t.Fatalf("plugin: %+v (version %v)", p, p.Version)
	}

	// One flipped byte: refused, both digests named.
	data, _ := os.ReadFile(p.Path)
	data[len(data)/2] ^= 0x01
	if err := os.WriteFile(p.Path, data, 0o755); err != nil {
		t.Fatal(err)
	}
	_, errOut, code = run("--backend", "s6", "gateway", "list")
	if code != 78 || !strings.Contains(errOut, "failed verification: SHA-256 is ") || !strings.Contains(errOut, "its checksum file says ") {
		t.Fatalf("after a flipped byte: exit %d\n%s", code, errOut)
	}
}

func TestPkgVersion(t *testing.T) {
	for in, want := range map[string][2]string{
		"v1.2.3": {"1.2.3", ""}, "1.2.3": {"1.2.3", ""}, "81b2ed0": {"0.0.0", "git81b2ed0"},
		"v1.2.3-4-gabcdef0": {"0.0.0", "git1.2.34gabcdef0"}, "abc-dirty": {"0.0.0", "gitabcdirty"},
	} {
		v, m := pkgVersion(in)
		if v != want[0] || (want[1] != "" && m != strings.ReplaceAll(want[1], ".", "")) {
			t.Errorf("%s: %s %s", in, v, m)
		}
	}
}
