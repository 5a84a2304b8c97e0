package conformance

import "strings"

// InvalidProfileNames are names every backend must refuse with an
// *InvalidProfileError before touching anything. Names that are not valid
// UTF-8 are refused by the host before they reach the wire.
var InvalidProfileNames = []string{
	"",
	"Coder",
	"foo/bar",
	"../escape",
	"..",
	"-leading-dash",
	"_leading_underscore",
	"name with spaces",
	"name.with.dots",
	strings.Repeat("a", 65),
	strings.Repeat("a", 252),
	"caf\u00e9",
	"nul\x00byte",
	"bad\xffutf8",
	"tab\tname",
	"back\\slash",
}

// MissingProfile is the profile the checks use: valid, and assumed absent.
const MissingProfile = "hermes-conformance-absent"
