package host

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nousresearch/hermes-service/internal/boot"
	"github.com/nousresearch/hermes-service/internal/discovery"
	"github.com/nousresearch/hermes-service/internal/registration"
	"github.com/nousresearch/hermes-service/shared/gateway"
	"github.com/nousresearch/hermes-service/shared/plugin"
	"github.com/nousresearch/hermes-service/shared/service"
)

// Doctor's checks of owners, modes and links: of hermes's files in the
// home, and along the plugin path. Each reads with Lstat and changes
// nothing; each problem is a finding with the one command that fixes it.

// profileFiles are the files hermes, its runner and upstream's gateway keep
// in a profile's folder: each must be a regular file of the home's owner
// that nobody else may write.
var profileFiles = []string{gateway.StateFile, gateway.PIDFile, gateway.LockFile, gateway.RunnerPIDFile, gateway.RunnerLockFile,
	gateway.RunnerGroupFile, gateway.PlannedStopFile, gateway.TakeoverFile, gateway.RunnerTakeoverFile, registration.File}

// maxLogEntries bounds the walk of a logs folder.
const maxLogEntries = 2000

// homeFiles checks the home at root.
type homeFiles struct {
	f        *findings
	root     string
	uid, gid int
	owned    bool // the platform has owners (uid, gid)
	found    int
}

// checkHomeFiles reports hermes's files in the home that are not the home
// owner's, that others may write, or that are links or not what they should
// be (a folder where a file belongs, a pipe). The home's owner is the owner
// of its root folder.
func checkHomeFiles(root string, f *findings) {
	info, err := os.Stat(root)
	if err != nil || !info.IsDir() {
		return // checkHome said so
	}
	h := &homeFiles{f: f, root: root}
	h.uid, h.gid, h.owned = fileOwner(info)
	h.check(root, info, kindDir)
	h.path(filepath.Join(root, "profiles"), kindDir)
	dirs := []string{root}
	entries, _ := os.ReadDir(filepath.Join(root, "profiles"))
	for _, e := range entries {
		if e.Name() == service.DefaultProfile || service.ValidateProfile(e.Name()) != nil {
			continue // not a profile hermes would use
		}
		dir := filepath.Join(root, "profiles", e.Name())
		if h.path(dir, kindDir) {
			dirs = append(dirs, dir)
		}
	}
	for _, dir := range dirs {
		for _, name := range profileFiles {
			h.path(filepath.Join(dir, name), kindFile)
		}
		h.logs(filepath.Join(dir, "logs"))
	}
	if h.found == 0 {
		who := ""
		if h.owned {
			who = " owned by " + userName(h.uid) + ","
		}
		f.add("home files", true, fmt.Sprintf("hermes's files in %s:%s written by nobody else, no links", root, who), "")
	}
}

type fileKind int

const (
	kindFile fileKind = iota // a regular file
	kindDir                  // a folder
	kindAny                  // either (inside logs)
)

// path checks one path hermes uses; ok is true when it is a real folder or
// file to look inside (not missing, not a link).
func (h *homeFiles) path(p string, want fileKind) bool {
	info, err := os.Lstat(p)
	if err != nil {
		return false // missing is fine: hermes creates it
	}
	return h.check(p, info, want)
}

func (h *homeFiles) problem(detail, fix string) {
	h.found++
	h.f.add("home files", false, detail, fix)
}

func (h *homeFiles) check(p string, info fs.FileInfo, want fileKind) bool {
	switch m := info.Mode(); {
	case m&fs.ModeSymlink != 0:
		target, _ := os.Readlink(p)
		fix := fixOn("rm", p, info)
		if want == kindDir {
			fix += " && " + h.mkdir(p)
		}
		h.problem(fmt.Sprintf("%s is a symlink (to %s): hermes's files in the home must be its own, or what hermes writes there lands elsewhere",
			shown(p), shown(target)), fix)
		return false
	case want == kindFile && !m.IsRegular():
		rm := "rm"
		if m.IsDir() {
			rm = "rm -r"
		}
		h.problem(fmt.Sprintf("%s is %s, not a regular file", shown(p), gateway.FileKind(info)), fixOn(rm, p, info))
		return false
	case want == kindDir && !m.IsDir():
		h.problem(fmt.Sprintf("%s is %s, not a folder", shown(p), gateway.FileKind(info)), fixOn("rm", p, info)+" && "+h.mkdir(p))
		return false
	case want == kindAny && !m.IsDir() && !m.IsRegular():
		h.problem(fmt.Sprintf("%s is %s, not a regular file", shown(p), gateway.FileKind(info)), fixOn("rm", p, info))
		return false
	}
	if !h.owned {
		return true // no owners or Unix modes here (Windows)
	}
	uid, gid, _ := fileOwner(info)
	if uid != h.uid {
		h.problem(fmt.Sprintf("%s is owned by %s (uid %d), not by the home's owner %s (uid %d)", shown(p), userName(uid), uid, userName(h.uid), h.uid),
			sudo(0)+fixOn("chown "+userName(h.uid)+":"+groupName(h.gid), p, info))
	}
	perm := info.Mode().Perm()
	switch {
	case filepath.Base(p) == registration.File && perm&0o077 != 0:
		h.problem(fmt.Sprintf("%s is mode %04o: it may hold --env secrets, and only its owner may read it", shown(p), perm),
			sudo(uid)+fixOn("chmod 600", p, info))
	case perm&0o022 == 0o020 && h.privateGroup(info):
		// Group-writable under a umask of 002 with a group of the owner's
		// own (user private groups, Debian's and Ubuntu's default): nobody
		// else may write it, but say so.
		h.found++
		h.f.addFinding(service.Finding{Check: "home files", Severity: service.SeverityWarning,
			Detail: fmt.Sprintf("%s is mode %04o: its group may write it (%s, the owner's own group, so nobody else for now)", shown(p), perm, groupName(gid)),
			Fix:    sudo(uid) + fixOn("chmod g-w", p, info)})
	case perm&0o022 != 0:
		h.problem(fmt.Sprintf("%s is mode %04o: %s may write it", shown(p), perm, writers(perm)), sudo(uid)+fixOn("chmod go-w", p, info))
	}
	return true
}

// privateGroup reports whether info's group is its owner's private group
// (named as the owner is, the user private group scheme).
func (h *homeFiles) privateGroup(info fs.FileInfo) bool {
	uid, gid, ok := fileOwner(info)
	return ok && uid == h.uid && groupName(gid) == userName(uid)
}

// mkdir is the command that makes p again as a folder of the home's owner.
func (h *homeFiles) mkdir(p string) string {
	cmd := "mkdir " + shellQuote(p)
	if h.owned && os.Geteuid() != h.uid {
		cmd += " && " + sudo(0) + "chown " + userName(h.uid) + ":" + groupName(h.gid) + " " + shellQuote(p)
	}
	return cmd
}

// logs checks a logs folder and, when it is a real one, what is in it (the
// audit log, the gateways' s6 logs), up to maxLogEntries entries.
func (h *homeFiles) logs(dir string) {
	if !h.path(dir, kindDir) {
		return
	}
	n := 0
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return nil
		}
		if n++; n > maxLogEntries {
			return filepath.SkipAll
		}
		info, err := os.Lstat(p)
		if err != nil {
			return nil
		}
		want := kindAny
		if filepath.Base(p) == boot.LogFile {
			want = kindFile
		}
		if !h.check(p, info, want) && d.IsDir() {
			return filepath.SkipDir
		}
		return nil
	})
}

// writers says who besides the owner may write a file of mode perm.
func writers(perm fs.FileMode) string {
	switch {
	case perm&0o022 == 0o022:
		return "its group and everyone"
	case perm&0o002 != 0:
		return "everyone"
	}
	return "its group"
}

// sudo is "sudo " for a command that only root, or the owner given, may
// run, when hermes runs as neither: sudo(0) for a chown, sudo(owner) for a
// chmod.
func sudo(owner int) string {
	if euid := os.Geteuid(); euid == 0 || (euid == owner && owner != 0) {
		return ""
	}
	return "sudo "
}

// checkPluginPath reports plugin folders, the folders above them and the
// plugin files (and checksums) in them that are neither root's nor this
// user's, or that anyone else may write: whoever may change them chooses
// what hermes runs (the launch's own rule: even a sticky /tmp above is
// refused). Links are followed to what they name, which is checked too.
func checkPluginPath(f *findings) {
	if runtime.GOOS == "windows" {
		return // no Unix owners or modes
	}
	p := pluginPath{f: f, seen: map[string]bool{}}
	for _, d := range discovery.FromEnv().Dirs {
		info, err := os.Stat(d.Path)
		if err != nil || !info.IsDir() {
			continue
		}
		entries, err := os.ReadDir(d.Path)
		if err != nil {
			continue
		}
		// Only folders that hold plugins: a search folder with none (the
		// executable's own, say) chooses nothing hermes runs.
		var files []string
		for _, e := range entries {
			name := e.Name()
			_, isPlugin := plugin.KindFromFileName(name, runtime.GOOS)
			if isPlugin || name == "SHA256SUMS" || strings.HasSuffix(name, ".sha256") && strings.HasPrefix(name, plugin.FilePrefix) {
				files = append(files, filepath.Join(d.Path, name))
			}
		}
		if len(files) == 0 {
			continue
		}
		p.folder(d.Path)
		for _, f := range files {
			p.file(f)
		}
	}
	if p.found == 0 {
		f.add("plugin path", true, fmt.Sprintf("%d folders and %d plugin files, each root's or yours, written by nobody else", p.folders, p.files), "")
	}
}

type pluginPath struct {
	f              *findings
	seen           map[string]bool
	found          int
	folders, files int
}

// folder checks dir, its real path and every folder above that.
func (p *pluginPath) folder(dir string) {
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return
	}
	for d, above := real, false; ; d, above = filepath.Dir(d), true {
		if !p.seen[d] {
			p.seen[d] = true
			p.folders++
			p.check(d, above)
		}
		if filepath.Dir(d) == d {
			return
		}
	}
}

// file checks a plugin file (what a link names, and that one's folders).
func (p *pluginPath) file(path string) {
	real, err := filepath.EvalSymlinks(path)
	if err != nil || p.seen[real] {
		return
	}
	if real != path {
		p.folder(filepath.Dir(real))
	}
	p.seen[real] = true
	p.files++
	p.check(real, false)
}

// check applies the launch's own trust rule (discovery.CheckEntry) to one
// entry, so doctor fails exactly what a launch would refuse.
func (p *pluginPath) check(path string, above bool) {
	info, err := os.Lstat(path)
	if err != nil {
		return
	}
	refused := discovery.CheckEntry(path, info, info.Mode().IsRegular())
	if refused == nil {
		return
	}
	uid, _, _ := fileOwner(info)
	p.found++
	detail := refused.Reason
	if info.Mode().IsRegular() {
		detail = shown(path) + ": " + detail // the rule speaks of "the file"
	}
	p.f.add("plugin path", false, detail, sudo(uid)+refused.Fix)
}

// fixOn is the command that runs cmd on the file p (info its Lstat): cmd
// and p quoted, when p is printable; else (a name planted with a newline or
// a terminal escape in it, which must reach neither the report nor a
// shell) find, from the nearest printable folder above it, the file with
// its inode.
func fixOn(cmd, p string, info fs.FileInfo) string {
	if printable(p) {
		return cmd + " " + shellQuote(p)
	}
	dir := filepath.Dir(p)
	for !printable(dir) {
		dir = filepath.Dir(dir)
	}
	ino, ok := fileInode(info)
	if !ok {
		return cmd + " " + shown(p) // no inodes (Windows), whose names hold no control characters
	}
	return fmt.Sprintf("find %s -xdev -inum %d -exec %s {} +", shellQuote(dir), ino, cmd)
}

// printable reports whether s is valid UTF-8 without control characters.
func printable(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, unicode.IsControl)
}

// shown is p as a report shows it: as it is when printable, else quoted
// with Go's escapes.
func shown(p string) string {
	if printable(p) {
		return p
	}
	return strconv.Quote(p)
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@%+=:,./-") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
