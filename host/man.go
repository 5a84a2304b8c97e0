package host

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"
)

// manPage renders app as a man page (roff, section 1) from its commands
// and flags. urfave/cli's own renderer goes through Markdown, whose package
// setup every command would pay for at start (internal/buildtags).
func manPage(app *cli.App) string {
	var b strings.Builder
	fmt.Fprintf(&b, ".TH %s 1\n.SH NAME\n%s \\- %s\n", roffText(strings.ToUpper(app.Name)), roffText(app.Name), roffText(app.Usage))
	fmt.Fprintf(&b, ".SH SYNOPSIS\n.B %s\n[GLOBAL OPTIONS] COMMAND [OPTIONS] [ARGUMENTS]\n", roffText(app.Name))
	if app.Description != "" {
		fmt.Fprintf(&b, ".SH DESCRIPTION\n%s\n", roffText(app.Description))
	}
	if len(app.Flags) > 0 {
		b.WriteString(".SH GLOBAL OPTIONS\n")
		manFlags(&b, app.Flags)
	}
	b.WriteString(".SH COMMANDS\n")
	for _, c := range app.Commands {
		manCommandSection(&b, "", c)
	}
	return b.String()
}

// manCommandSection is one command's section, its subcommands after it;
// parent is the words before its name ("" at the top).
func manCommandSection(b *strings.Builder, parent string, c *cli.Command) {
	if c.Hidden {
		return
	}
	name := strings.TrimSpace(parent + " " + c.Name)
	fmt.Fprintf(b, ".SS \"%s\"\n", roffText(name))
	if c.Usage != "" {
		fmt.Fprintf(b, "%s\n", roffText(c.Usage))
	}
	if c.Description != "" {
		fmt.Fprintf(b, ".PP\n%s\n", roffText(c.Description))
	}
	manFlags(b, c.Flags)
	for _, sub := range c.Subcommands {
		manCommandSection(b, name, sub)
	}
}

func manFlags(b *strings.Builder, flags []cli.Flag) {
	for _, f := range flags {
		if vf, ok := f.(cli.VisibleFlag); ok && !vf.IsVisible() {
			continue
		}
		spec, usage, _ := strings.Cut(cli.FlagStringer(f), "\t")
		fmt.Fprintf(b, ".TP\n.B %s\n%s\n", roffText(spec), roffText(usage))
	}
}

// roffText escapes s for roff: backslashes, hyphens (minus signs in
// options), and a line's leading dot or quote (a request otherwise).
func roffText(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	s = strings.ReplaceAll(s, "-", `\-`)
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, ".") || strings.HasPrefix(l, "'") {
			lines[i] = `\&` + l
		}
	}
	return strings.Join(lines, "\n")
}
