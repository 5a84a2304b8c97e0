package detect

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// ManifestSuffix names a plugin's detection manifest: beside
// hermes-service-runit, hermes-service-runit.detect.
const ManifestSuffix = ".detect"

// maxManifest caps what is read of a manifest: a few paths and names.
const maxManifest = 64 << 10

// Manifest is how a third-party backend says it is detected, without being
// launched: a small JSON file beside its plugin,
//
//	{"proc1_comm": ["runit"], "files": ["/etc/service"]}
//
// It matches when /proc/1/comm reads one of proc1_comm (when any are
// listed) and every one of files exists (absolute paths). Built-in probes
// come first; manifests are considered only when none of them fits, in the
// order their plugins are found.
type Manifest struct {
	// Kind is the plugin's kind, from its file name.
	Kind string `json:"-"`
	// Path is the manifest's file.
	Path      string   `json:"-"`
	Proc1Comm []string `json:"proc1_comm"`
	Files     []string `json:"files"`
}

// ReadManifest reads the manifest at path for the plugin of kind. A
// manifest that declares nothing, or names a relative file, is an error:
// it would match every machine, or a different file in every folder.
func ReadManifest(path, kind string) (Manifest, error) {
	f, err := os.Open(path)
	if err != nil {
		return Manifest{}, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxManifest+1))
	if err != nil {
		return Manifest{}, err
	}
	if len(data) > maxManifest {
		return Manifest{}, fmt.Errorf("detection manifest %s is over %d bytes", path, maxManifest)
	}
	m := Manifest{Kind: kind, Path: path}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return Manifest{}, fmt.Errorf("detection manifest %s: %w (want {\"proc1_comm\": [...], \"files\": [...]})", path, err)
	}
	if len(m.Proc1Comm) == 0 && len(m.Files) == 0 {
		return Manifest{}, fmt.Errorf("detection manifest %s declares nothing: it would match every machine", path)
	}
	for _, file := range m.Files {
		if !filepath.IsAbs(file) {
			return Manifest{}, fmt.Errorf("detection manifest %s: %q is not an absolute path", path, file)
		}
	}
	return m, nil
}

// Match says whether the machine is m's, and why, as a Detection's reason.
func (p Probe) Match(m Manifest) (bool, string) {
	var why []string
	if len(m.Proc1Comm) > 0 {
		data, err := p.readComm()
		if err != nil {
			return false, err.Error()
		}
		if !slices.Contains(m.Proc1Comm, data) {
			return false, fmt.Sprintf("/proc/1/comm is %q, not one of %q", data, m.Proc1Comm)
		}
		why = append(why, fmt.Sprintf("/proc/1/comm is %q", data))
	}
	for _, file := range m.Files {
		ok, w := p.exists(file)
		if !ok {
			return false, w
		}
		why = append(why, w)
	}
	return true, strings.Join(why, ", ")
}

// readComm is /proc/1/comm without its newline.
func (p Probe) readComm() (string, error) {
	data, err := p.readFile("/proc/1/comm")
	if errors.Is(err, fs.ErrNotExist) {
		return "", errors.New("/proc/1/comm missing")
	}
	if err != nil {
		return "", fmt.Errorf("/proc/1/comm unreadable: %w", err)
	}
	return strings.TrimSpace(string(data)), nil
}

func (p Probe) readFile(name string) ([]byte, error) {
	return fs.ReadFile(p.FS, strings.TrimPrefix(path.Clean(name), "/"))
}

// DetectWith is Detect, then, when no built-in probe fits, the first of
// manifests that matches. Each manifest's verdict is returned too, in
// order, for doctor to show.
func (p Probe) DetectWith(scope Scope, manifests []Manifest) (Detection, []Verdict) {
	d := p.Detect(scope)
	verdicts := make([]Verdict, 0, len(manifests))
	for _, m := range manifests {
		ok, why := p.Match(m)
		verdicts = append(verdicts, Verdict{Manifest: m, Matched: ok, Reason: why})
		if ok && d.Kind == "" {
			d = Detection{Kind: m.Kind, Reason: fmt.Sprintf("%s: %s (its detection manifest %s)", m.Kind, why, m.Path)}
		}
	}
	return d, verdicts
}

// Verdict is one manifest's match on this machine.
type Verdict struct {
	Manifest Manifest
	Matched  bool
	Reason   string
}
