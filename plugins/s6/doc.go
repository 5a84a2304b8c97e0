// Package s6 is the hermes backend for s6-overlay containers: each profile's
// gateway is an s6 service slot, gateway-<profile>, registered at run time
// in the scandir that s6-svscan watches (/run/service), and brought back at
// container start by `hermes gateway reconcile`.
//
// Configuration comes from the environment the host gives the plugin:
//
//	HERMES_HOME          the Hermes home (the host always sets it)
//	HERMES_S6_SCANDIR    the scandir (default /run/service)
//	HERMES_S6_BIN_DIR    where the s6 tools are (default /command when it
//	                     exists, else PATH)
//	HERMES_S6_USER       the account gateways run as when the slot starts
//	                     as root (default hermes; empty: no privilege drop)
//	HERMES_S6_HERMES     the hermes binary run scripts execute (default: the
//	                     one that registers the slot)
//	HERMES_S6_OVERLAY_DIR  s6-overlay's run folder (default /run/s6): its
//	                     basedir says doctor runs under s6-overlay, its
//	                     container_environment holds S6_*_GRACETIME
//
// The backend is Linux software; on Windows the package holds nothing.
package s6

// Version is the plugin's version, set at build time with -ldflags -X.
var Version = ""
