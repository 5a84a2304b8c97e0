package fakeupstream

// UpstreamBuiltins are the top-level commands built into upstream's CLI,
// for table tests of the pass-through: hermes must hand every one of them
// but "gateway" to upstream unchanged.
//
// Source: the subparsers of upstream's parser, hermes_cli/_parser.py and
// the main._build_cli_parser that completes it, in NousResearch/hermes-agent.
// This list was given to us, not derived from a pinned upstream commit; the
// set grows with upstream (its plugins add more, e.g. "honcho" comes from a
// memory plugin), so a test should treat it as a sample of real names, not
// as the whole set. Keep "gateway" first: it is the one hermes keeps.
var UpstreamBuiltins = []string{
	"gateway",
	"doctor",
	"profile",
	"setup",
	"chat",
	"model",
	"config",
	"status",
	"version",
	"update",
	"uninstall",
	"login",
	"logout",
	"auth",
	"tools",
	"skills",
	"plugins",
	"sessions",
	"cron",
	"mcp",
	"memory",
	"completion",
	"dashboard",
	"acp",
	"insights",
	"claw",
	"honcho",
	"whatsapp",
	"pairing",
	"backup",
	"import",
	"logs",
	"debug",
	"dump",
	"hooks",
	"webhook",
	"send",
	"run",
}
