// Package containertier is the container tier (tests only): hermes inside a
// container laid out like upstream's image (s6-overlay 3.2.3.0), with
// s6-svscan as its PID 1, run by scripts/container.sh without Docker. The
// tier does what a container's life does: the cont-init step
// (container/cont-init.d/02-reconcile-profiles, the file an image ships)
// at every start, `docker exec` as root, gateways as uid 10000 on a volume,
// and `docker stop` in its three forms (SIGTERM to a plain s6-svscan,
// s6-overlay's halt, SIGKILL), each followed by a new container on the
// same volume.
//
// It runs as root (make container, which make test runs, uses sudo when
// needed), on Linux, with Debian's s6 and execline (make deps).
package containertier

// ContInit is the cont-init script the tier runs, as the repository ships
// it, relative to the repository's root.
const ContInit = "container/cont-init.d/02-reconcile-profiles"

// Script is the container runner, relative to the repository's root.
const Script = "scripts/container.sh"
