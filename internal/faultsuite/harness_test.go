//go:build linux

package faultsuite

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nousresearch/hermes-service/internal/testbackend"
	"github.com/nousresearch/hermes-service/internal/testbin"
	"github.com/nousresearch/hermes-service/internal/testgateway"
	"github.com/nousresearch/hermes-service/internal/upstreamgateway"
)

// bins are the real programs the suite runs, in a folder every account can
// read (the service user runs some of them).
var bins struct {
	dir, hermes, s6, systemd, launchd, testPlugin, testGateway, upstream string
}

// svc is the service user.
var svc struct {
	name     string
	uid, gid int
}

func TestMain(m *testing.M) {
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "the fault suite runs hermes as root beside an unprivileged user: run it as root (`make fault` uses sudo)")
		os.Exit(1)
	}
	u, err := user.Lookup(ServiceUser)
	if err != nil {
		fmt.Fprintf(os.Stderr, "the fault suite needs the account %s (`make deps` creates it): %v\n", ServiceUser, err)
		os.Exit(1)
	}
	svc.name = u.Username
	svc.uid, _ = strconv.Atoi(u.Uid)
	svc.gid, _ = strconv.Atoi(u.Gid)
	testbin.Main(m, func(dir string) (err error) {
		if err := os.Chmod(dir, 0o755); err != nil {
			return err
		}
		bins.dir = dir
		for _, b := range []struct {
			to  *string
			pkg string
		}{
			{&bins.hermes, "github.com/nousresearch/hermes-service/cmd/hermes"},
			{&bins.s6, "github.com/nousresearch/hermes-service/plugins/s6/cmd/hermes-service-s6"},
			{&bins.systemd, "github.com/nousresearch/hermes-service/plugins/systemd/cmd/hermes-service-systemd"},
			{&bins.launchd, "github.com/nousresearch/hermes-service/plugins/launchd/cmd/hermes-service-launchd"},
			{&bins.testPlugin, testbackend.PluginPackage},
			{&bins.testGateway, testgateway.Package},
			{&bins.upstream, upstreamgateway.Package},
		} {
			if *b.to, err = testbin.Build(dir, b.pkg); err != nil {
				return err
			}
		}
		return nil
	})
}

// home is a Hermes home owned by the service user, as the volume in
// upstream's image is, inside a folder only root may change.
type home struct {
	t    *testing.T
	root string // the home
	// outside is a root-owned folder beside the home holding victims:
	// files an attacker would have root write, truncate or chmod.
	outside string
}

func newHome(t *testing.T) *home {
	t.Helper()
	// Not t.TempDir: Go makes its parent 0700, which the service user
	// could not pass through to reach its own home.
	base, err := os.MkdirTemp("", "hermes-fault-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(base) })
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	h := &home{t: t, root: filepath.Join(base, "home"), outside: filepath.Join(base, "outside")}
	for _, d := range []string{h.root, h.outside} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chown(h.root, svc.uid, svc.gid); err != nil {
		t.Fatal(err)
	}
	return h
}

// path is a path inside the home.
func (h *home) path(rel ...string) string { return filepath.Join(append([]string{h.root}, rel...)...) }

// asUser runs a command as the service user (the attacker's account).
func asUser(cmd *exec.Cmd) *exec.Cmd {
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(svc.uid), Gid: uint32(svc.gid)}}
	return cmd
}

// plant runs shell as the service user, in the home: what the attacker
// does before root comes.
func (h *home) plant(script string) {
	h.t.Helper()
	cmd := asUser(exec.Command("sh", "-ec", script))
	cmd.Dir = h.root
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + h.root, "OUTSIDE=" + h.outside}
	if out, err := cmd.CombinedOutput(); err != nil {
		h.t.Fatalf("planting as %s: %v\n%s\n%s", svc.name, err, script, out)
	}
}

// victim is a root-owned file outside the home, with its content: a write
// through a planted link would change it.
func (h *home) victim(name, content string) string {
	h.t.Helper()
	p := filepath.Join(h.outside, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		h.t.Fatal(err)
	}
	return p
}

// result is one hermes run.
type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// hermes runs hermes as root on the home with the given extra environment.
func (h *home) hermes(env []string, args ...string) result {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := h.command(ctx, env, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			h.t.Fatalf("hermes %q: %v", args, err)
		}
		code = ee.ExitCode()
	}
	return result{out.String(), errOut.String(), code}
}

// command is hermes, as root, on the home with the given extra
// environment.
func (h *home) command(ctx context.Context, env []string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, bins.hermes, args...)
	if _, err := os.Stat("/run/systemd/system"); err == nil {
		// A machine run by systemd: hermes would detect it and hand every
		// command to the host's manager. In a mount namespace of its own,
		// /run/systemd is an empty tmpfs, so it detects what the suite
		// sets up and nothing else, as in a container.
		cmd = exec.CommandContext(ctx, "unshare", append([]string{"--mount", "sh", "-c",
			`mount -t tmpfs -o size=64k tmpfs /run/systemd && exec "$0" "$@"`, bins.hermes}, args...)...)
	}
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=/root", "HERMES_HOME=" + h.root}, env...)
	return cmd
}

// ownedByUser fails for every entry of the home (links included, never
// followed) that the service user does not own.
func (h *home) ownedByUser() {
	h.t.Helper()
	_ = filepath.WalkDir(h.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		info, err := os.Lstat(p)
		if err != nil {
			return nil
		}
		if st := info.Sys().(*syscall.Stat_t); int(st.Uid) != svc.uid {
			h.t.Errorf("%s is owned by uid %d, not the home's owner %s (%d)", strings.TrimPrefix(p, h.root+"/"), st.Uid, svc.name, svc.uid)
		}
		return nil
	})
}

// untouched fails unless every victim still holds its content and mode,
// and nothing new appeared outside the home.
func (h *home) untouched(victims map[string]string) {
	h.t.Helper()
	for p, content := range victims {
		data, err := os.ReadFile(p)
		if err != nil || string(data) != content {
			h.t.Errorf("%s outside the home was changed (%v): %q", p, err, data)
		}
		if info, err := os.Stat(p); err == nil && info.Mode().Perm() != 0o600 {
			h.t.Errorf("%s outside the home was chmodded to %v", p, info.Mode().Perm())
		}
	}
	entries, _ := os.ReadDir(h.outside)
	if len(entries) != len(victims) {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		h.t.Errorf("something was created outside the home: %v", names)
	}
}
