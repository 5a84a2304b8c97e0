package host

import (
	"github.com/nousresearch/hermes-service/internal/detect"
	"github.com/nousresearch/hermes-service/internal/fserr"
)

// Detection's types under the names the commands already use, so that
// moving detection out of host left the commands' code as it was.
type (
	Scope     = detect.Scope
	Detection = detect.Detection
)

// The scopes.
const (
	ScopeUser   = detect.ScopeUser
	ScopeSystem = detect.ScopeSystem
)

// errText is a file-system error without the path the message names.
func errText(err error) string { return fserr.Reason(err) }
