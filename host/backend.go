package host

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/nousresearch/hermes-service/internal/detect"
	"github.com/nousresearch/hermes-service/internal/discovery"
	"github.com/nousresearch/hermes-service/internal/privatetree"
	"github.com/nousresearch/hermes-service/shared/gateway"
	"github.com/nousresearch/hermes-service/shared/plugin"
	"github.com/nousresearch/hermes-service/shared/service"
)

// detect says which backend the session uses, and why.
func (s *session) detect(scope detect.Scope) (detect.Detection, error) {
	if s.backend != "" {
		return detect.Detection{Kind: s.backend, Reason: s.backend + ": " + s.forced}, nil
	}
	d := detect.ThisMachine().Detect(scope)
	if d.Kind != service.KindS6 {
		// A private tree from `gateway supervise` is what this machine
		// was given to supervise gateways with: it wins over detection.
		t := privatetree.Of(s.home)
		if pid := t.Alive(); pid > 0 {
			s.scandir, s.privateTree = t.ScanDir, true
			return detect.Detection{Kind: service.KindS6, Reason: fmt.Sprintf("s6: the private tree of hermes gateway supervise (s6-svscan pid %d on %s)", pid, t.ScanDir)}, nil
		}
	}
	if d.Kind == "" {
		// Third-party backends last: the first whose manifest matches.
		if m, _ := detect.ThisMachine().DetectWith(scope, s.manifests()); m.Kind != "" {
			return m, nil
		}
		return d, &ConfigError{Err: &NoBackendError{Reason: d.Reason}}
	}
	return d, nil
}

// manifests are the detection manifests beside the plugins found, in
// search order (a shadowed plugin's too: its kind is the same); one that
// cannot be read is skipped, with a debug line.
func (s *session) manifests() []detect.Manifest {
	cands, _ := discovery.FromEnv().All()
	var out []detect.Manifest
	for _, c := range cands {
		if c.Shadowed {
			continue
		}
		path := strings.TrimSuffix(c.Path, ".exe") + detect.ManifestSuffix
		m, err := detect.ReadManifest(path, c.Kind)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				s.log.Debug("detection manifest", "path", path, "error", err)
			}
			continue
		}
		out = append(out, m)
	}
	return out
}

// open finds, verifies and launches the backend plugin for scope. Any
// failure on the way is a configuration problem (exit 78): nothing was
// done yet, and retrying will not help. The file launched is the one the
// trust checks passed (by its resolved path, verified again once open), and
// it must identify as the kind it is named for.
func (s *session) open(scope detect.Scope) (*plugin.Client, detect.Detection, error) {
	d, err := s.detect(scope)
	if err != nil {
		return nil, d, err
	}
	s.log.Debug("backend", "kind", d.Kind, "reason", d.Reason)
	cand, notes, err := s.searcher().Find(d.Kind)
	for _, n := range notes {
		s.log.Debug("plugin search", "path", n.Path, "note", n.Reason)
	}
	if err != nil {
		return nil, d, &ConfigError{Err: err}
	}
	if cand.Refused != nil {
		return nil, d, &ConfigError{Err: cand.Refused}
	}
	s.log.Debug("launching plugin", "path", cand.Path, "checksum", cand.ChecksumFile)
	c, err := plugin.Launch(s.ctx, s.launchConfig(cand, d.Kind))
	if err != nil {
		if s.ctx.Err() != nil {
			return nil, d, errors.Join(s.ctx.Err(), err)
		}
		return nil, d, &ConfigError{Err: err}
	}
	return c, d, nil
}

// searcher is this process's plugin search path; the folders it leaves
// out (relative ones) are worth a warning.
func (s *session) searcher() discovery.Searcher {
	srch := discovery.FromEnv()
	for _, n := range srch.Ignored {
		fmt.Fprintf(s.stderr, "hermes: warning: ignoring plugin folder %q: %s\n", n.Path, n.Reason)
	}
	return srch
}

// launchConfig launches cand as the session does: the checked file, its
// checksum, the session's timeouts; kind, when set, is the kind it must
// identify as.
func (s *session) launchConfig(cand discovery.Candidate, kind string) plugin.LaunchConfig {
	return plugin.LaunchConfig{
		Path:         cand.Exec,
		Verify:       cand.Verify,
		Kind:         kind,
		Env:          s.pluginEnv(),
		Logger:       s.log,
		Checksum:     cand.Checksum,
		StartTimeout: s.timeout,
		CallTimeout:  s.callTimeout,
	}
}

// pluginEnv is what the host tells every plugin: the home, and the
// backend-specific settings given as flags.
func (s *session) pluginEnv() []string {
	env := []string{gateway.EnvPair(gateway.EnvHome, s.home)}
	if s.privateTree {
		env = append(env, gateway.EnvPair(gateway.EnvS6User, "")) // the tree is the user's own: no privilege drop
	}
	if s.userScope {
		env = append(env, gateway.EnvPair(gateway.EnvSystemdScope, "user"))
	}
	if s.scandir != "" {
		if abs, err := filepath.Abs(s.scandir); err == nil {
			env = append(env, gateway.EnvPair(gateway.EnvS6ScanDir, abs))
		}
	}
	return env
}
