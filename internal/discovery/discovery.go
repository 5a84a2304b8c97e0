// Package discovery finds backend plugins and decides whether they may be
// trusted: the search path (absolute folders only), the checksum recorded
// beside a plugin (<plugin>.sha256 or SHA256SUMS), and the ownership and
// permission checks, from the plugin's file up to /, that refuse a plugin
// someone else could have replaced.
package discovery

import (
	"bufio"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"github.com/nousresearch/hermes-service/internal/fserr"
	"github.com/nousresearch/hermes-service/shared/gateway"
	"github.com/nousresearch/hermes-service/shared/plugin"
)

// SearchDir is one folder the host looks in for plugins.
type SearchDir struct {
	Path string
	// Origin says why the folder is searched (gateway.EnvPluginPath,
	// "beside hermes", "user", "system").
	Origin string
}

// FromEnv is the search path of this process: its $HERMES_PLUGIN_PATH and
// its executable's folder, then the user's and the system's folders.
// Relative folders are left out, and listed in Ignored.
func FromEnv() Searcher {
	exe, _ := os.Executable()
	dirs, ignored := searchPath(os.Getenv(gateway.EnvPluginPath), exe)
	return Searcher{Dirs: dirs, Ignored: ignored}
}

// SearchPath lists, in order, the folders DESIGN.md names: each folder of
// HERMES_PLUGIN_PATH, the hermes executable's folder, its
// ../lib/hermes/plugins, the user's data folder, then the system folders.
// Duplicates are dropped, the first keeping its place. A relative folder
// (".", "bin") is left out: it would name a different folder in every
// working directory, and a plugin must be run by the path it was checked at.
func SearchPath(pluginPath, executable string) []SearchDir {
	dirs, _ := searchPath(pluginPath, executable)
	return dirs
}

func searchPath(pluginPath, executable string) ([]SearchDir, []Note) {
	var dirs []SearchDir
	for _, d := range filepath.SplitList(pluginPath) {
		if d != "" {
			dirs = append(dirs, SearchDir{d, gateway.EnvPluginPath})
		}
	}
	if executable != "" {
		exeDir := filepath.Dir(executable)
		dirs = append(dirs,
			SearchDir{exeDir, "beside hermes"},
			SearchDir{filepath.Join(exeDir, "..", "lib", "hermes", "plugins"), "beside hermes"})
	}
	if d := userPluginDir(); d != "" {
		dirs = append(dirs, SearchDir{d, "user"})
	}
	for _, d := range systemPluginDirs() {
		dirs = append(dirs, SearchDir{d, "system"})
	}
	seen := map[string]bool{}
	var (
		out     []SearchDir
		ignored []Note
	)
	for _, d := range dirs {
		if !filepath.IsAbs(d.Path) {
			ignored = append(ignored, Note{d.Path, "a relative folder (from " + d.Origin + ") is ignored: plugin folders must be absolute paths"})
			continue
		}
		d.Path = filepath.Clean(d.Path)
		if !seen[d.Path] {
			seen[d.Path] = true
			out = append(out, d)
		}
	}
	return out, ignored
}

// Candidate is a plugin file found on the search path.
type Candidate struct {
	Kind string
	// Path is where the search found the plugin: an absolute path, maybe
	// through symbolic links.
	Path string
	// Exec is the file to run: Path with every link resolved, the file the
	// trust checks looked at. Launch it, with Verify, rather than Path.
	Exec string
	Dir  SearchDir
	// Checksum is the SHA-256 recorded beside the plugin, nil when none is.
	Checksum []byte
	// ChecksumFile is where Checksum came from.
	ChecksumFile string
	// Refused says why the plugin must not be launched, nil when it may.
	Refused error
	// Shadowed is true when an earlier folder holds the same kind.
	Shadowed bool
	// info is Exec as the trust checks saw it.
	info fs.FileInfo
}

// Verify checks that f, the plugin opened to be run (plugin.LaunchConfig's
// Verify), is the very file the trust checks passed: the same inode, still
// owned and moded as they demand. A file swapped in since is refused.
func (c Candidate) Verify(f *os.File) error {
	if c.Refused != nil {
		return c.Refused
	}
	return verifyOpen(c.Path, c.info, f)
}

// Note is something the search saw and skipped, worth telling a person.
type Note struct {
	Path   string
	Reason string
}

// Searcher finds plugins on a search path.
type Searcher struct {
	Dirs []SearchDir
	// Ignored are the folders left off the search path, and why: relative
	// ones. Tell a person about them.
	Ignored []Note
}

// Find returns the plugin for kind: the first found wins. A folder that
// cannot be searched is skipped; the notes say why.
func (s Searcher) Find(kind string) (Candidate, []Note, error) {
	var notes []Note
	name := plugin.FileName(kind, runtime.GOOS)
	for _, d := range s.Dirs {
		if ok, note := searchable(d); !ok {
			notes = append(notes, note...)
			continue
		}
		c, note, ok := examine(d, name, kind)
		notes = append(notes, note...)
		if ok {
			return c, notes, nil
		}
	}
	return Candidate{}, notes, &NoPluginError{Kind: kind, File: name, Searched: s.Dirs, Notes: notes}
}

// All returns every plugin on the search path, in search order; a kind
// found again later is marked Shadowed.
func (s Searcher) All() ([]Candidate, []Note) {
	var (
		out   []Candidate
		notes []Note
	)
	seen := map[string]bool{}
	for _, d := range s.Dirs {
		if ok, note := searchable(d); !ok {
			notes = append(notes, note...)
			continue
		}
		entries, err := os.ReadDir(d.Path)
		if err != nil {
			notes = append(notes, Note{d.Path, fserr.Reason(err)})
			continue
		}
		names := make([]string, 0, len(entries))
		for _, e := range entries {
			n := e.Name()
			if _, ok := plugin.KindFromFileName(n, runtime.GOOS); ok && !strings.HasSuffix(n, sumSuffix) {
				names = append(names, n)
			}
		}
		sort.Strings(names)
		for _, n := range names {
			kind, _ := plugin.KindFromFileName(n, runtime.GOOS)
			c, note, ok := examine(d, n, kind)
			notes = append(notes, note...)
			if !ok {
				continue
			}
			c.Shadowed = seen[kind]
			seen[kind] = true
			out = append(out, c)
		}
	}
	return out, notes
}

// searchable is false for a folder that is missing, not a folder, or a
// symlink loop; only the unexpected cases make a note (a system folder that
// does not exist is normal).
func searchable(d SearchDir) (bool, []Note) {
	info, err := os.Stat(d.Path)
	switch {
	case err == nil && info.IsDir():
		return true, nil
	case err == nil:
		return false, []Note{{d.Path, "not a folder"}}
	case errors.Is(err, os.ErrNotExist) && d.Origin == gateway.EnvPluginPath:
		return false, []Note{{d.Path, "no such folder (from " + gateway.EnvPluginPath + ")"}}
	case errors.Is(err, os.ErrNotExist):
		return false, nil
	default:
		return false, []Note{{d.Path, fserr.Reason(err)}}
	}
}

// Examine looks at one plugin file given by its absolute path, as the
// search would if the file's folder were on it; origin says where the path
// came from. ok is false when there is nothing there to call a plugin.
func Examine(path, origin string) (c Candidate, ok bool) {
	name := filepath.Base(path)
	kind, _ := plugin.KindFromFileName(name, runtime.GOOS)
	c, _, ok = examine(SearchDir{Path: filepath.Dir(path), Origin: origin}, name, kind)
	return c, ok
}

// examine looks at dir/name: ok is false when there is nothing usable there
// to call a plugin (missing, a folder, not executable); a plugin that is
// there but must not run comes back ok with Refused set.
func examine(d SearchDir, name, kind string) (Candidate, []Note, bool) {
	path := filepath.Join(d.Path, name)
	info, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return Candidate{}, nil, false
	case err != nil:
		return Candidate{}, []Note{{path, fserr.Reason(err)}}, false
	case info.IsDir():
		return Candidate{}, []Note{{path, "a folder named like a plugin, skipped"}}, false
	case !info.Mode().IsRegular():
		return Candidate{}, []Note{{path, "not a regular file, skipped"}}, false
	case !IsExecutable(info):
		return Candidate{}, []Note{{path, "not executable, skipped"}}, false
	}
	c := Candidate{Kind: kind, Path: path, Dir: d}
	real, realInfo, refused := resolve(path)
	if refused != nil {
		c.Refused = refused
		return c, nil, true
	}
	c.Exec, c.info = real, realInfo
	sum, file, err := recordedChecksum(d.Path, name)
	if err != nil {
		var r *RefusedError
		if !errors.As(err, &r) {
			r = &RefusedError{Reason: err.Error()}
		}
		r.Path = path
		c.Refused = r
		return c, nil, true
	}
	c.Checksum, c.ChecksumFile = sum, file
	return c, nil, true
}

// The checksum files a plugin's digest is read from: <plugin>.sha256 beside
// it, else the folder's SHA256SUMS.
const (
	sumSuffix = ".sha256"
	sumsFile  = "SHA256SUMS"
)

// recordedChecksum reads the plugin's SHA-256 from <name>.sha256 (one file
// per plugin, so that several packages can each ship their own), else from
// the folder's SHA256SUMS, in the format sha256sum writes. No checksum file
// at all is "no checksum". A checksum file that is there must vouch for the
// plugin: a <name>.sha256 whose lines all name other files, or (without a
// <name>.sha256) a SHA256SUMS with no line for the plugin, refuses it, as
// does a malformed one.
func recordedChecksum(dir, name string) ([]byte, string, error) {
	for _, file := range []string{filepath.Join(dir, name+sumSuffix), filepath.Join(dir, sumsFile)} {
		sum, others, err := readSumFile(file, name)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, "", err
		}
		if sum == nil {
			return nil, "", uncovered(file, name, others)
		}
		return sum, file, nil
	}
	return nil, "", nil
}

// uncovered is a checksum file that does not vouch for the plugin.
func uncovered(file, name string, others []string) *RefusedError {
	names := "nothing"
	if len(others) > 0 {
		names = strings.Join(others, ", ")
	}
	dir, base := filepath.Dir(file), filepath.Base(file)
	if base == sumsFile {
		return &RefusedError{
			Reason: fmt.Sprintf("%s has no line for %s (it lists %s): a folder's SHA256SUMS must cover every plugin in it", file, name, names),
			Fix:    fmt.Sprintf("cd %s && sha256sum %s >> %s (after checking the plugin is the one you meant to install), or remove the plugin", dir, name, sumsFile),
		}
	}
	return &RefusedError{
		Reason: fmt.Sprintf("its checksum file %s does not name it (it names %s)", file, names),
		Fix:    fmt.Sprintf("reinstall the plugin's package, or if you built it yourself: cd %s && sha256sum %s > %s", dir, name, base),
	}
}

// readSumFile returns the digest file gives for name, or, when it gives
// none, the files it does give digests for.
func readSumFile(file, name string) ([]byte, []string, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	single := strings.HasSuffix(file, sumSuffix)
	var others []string
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		var digest, target string
		switch {
		case len(fields) == 1 && single:
			digest, target = fields[0], name
		case len(fields) == 2:
			digest, target = fields[0], strings.TrimPrefix(fields[1], "*")
		default:
			return nil, nil, fmt.Errorf("%s line %d is not `<sha256>  <file>`", file, n)
		}
		if filepath.Base(target) != name {
			others = append(others, target)
			continue
		}
		sum, err := hex.DecodeString(digest)
		if err != nil || len(sum) != 32 {
			return nil, nil, fmt.Errorf("%s line %d: %q is not a SHA-256 digest", file, n, digest)
		}
		return sum, nil, nil
	}
	return nil, others, sc.Err()
}

// NoPluginError is a backend without a plugin on the search path.
type NoPluginError struct {
	Kind     string
	File     string
	Searched []SearchDir
	Notes    []Note
}

func (e *NoPluginError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "no plugin for the %s backend: %s is in none of these folders:", e.Kind, e.File)
	for _, d := range e.Searched {
		fmt.Fprintf(&b, "\n  %s (%s)", d.Path, d.Origin)
	}
	for _, n := range e.Notes {
		fmt.Fprintf(&b, "\n  note: %s: %s", n.Path, n.Reason)
	}
	return b.String()
}

// Hint names the package that provides the plugin.
func (e *NoPluginError) Hint() string {
	pkg := plugin.FilePrefix + e.Kind // each plugin ships in a package named like its file
	return fmt.Sprintf("install the %s package (e.g. apt-get install %s), or put %s in a folder on %s",
		pkg, pkg, e.File, gateway.EnvPluginPath)
}

// RefusedError is a plugin the host will not launch.
type RefusedError struct {
	// Path is the plugin.
	Path string
	// Reason says what is wrong, naming the offending file or folder.
	Reason string
	// Fix, when known, is what makes it acceptable: usually a command.
	Fix string
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("refusing plugin %s: %s", e.Path, e.Reason)
}

// Hint says how to make it acceptable.
func (e *RefusedError) Hint() string {
	if e.Fix != "" {
		return e.Fix
	}
	return "only root or you may be able to change a plugin and the folders above it; reinstall it into a folder such as /usr/local/lib/hermes/plugins"
}
