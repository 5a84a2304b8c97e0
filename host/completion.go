package host

import (
	"fmt"

	"github.com/urfave/cli/v2"
)

// bashCompletion asks hermes itself for the candidates (urfave/cli's
// --generate-bash-completion), so it never falls out of date.
const bashCompletion = `# bash completion for hermes; install: hermes gateway completion bash > /etc/bash_completion.d/hermes
_hermes_complete() {
  local cur opts
  COMPREPLY=()
  cur="${COMP_WORDS[COMP_CWORD]}"
  if [[ "$cur" == "-"* ]]; then
    opts=$("${COMP_WORDS[@]:0:$COMP_CWORD}" "$cur" --generate-bash-completion 2>/dev/null)
  else
    opts=$("${COMP_WORDS[@]:0:$COMP_CWORD}" --generate-bash-completion 2>/dev/null)
  fi
  COMPREPLY=($(compgen -W "${opts}" -- "${cur}"))
  return 0
}
complete -o bashdefault -o default -F _hermes_complete hermes
`

const zshCompletion = `#compdef hermes
# zsh completion for hermes; install: hermes gateway completion zsh > "${fpath[1]}/_hermes"
_hermes() {
  local -a opts
  local cur=${words[-1]}
  if [[ "$cur" == "-"* ]]; then
    opts=("${(@f)$(${words[@]:0:#words[@]-1} ${cur} --generate-bash-completion 2>/dev/null)}")
  else
    opts=("${(@f)$(${words[@]:0:#words[@]-1} --generate-bash-completion 2>/dev/null)}")
  fi
  if [[ "${opts[1]}" != "" ]]; then
    _describe 'values' opts
  else
    _files
  fi
}
compdef _hermes hermes
`

func completionCommand() *cli.Command {
	shell := func(name, script string) *cli.Command {
		return &cli.Command{
			Name:  name,
			Usage: "print the " + name + " completion script",
			Action: func(c *cli.Context) error {
				_, err := fmt.Fprint(c.App.Writer, script)
				return err
			},
		}
	}
	return &cli.Command{
		Name:   "completion",
		Usage:  "print a shell completion script (bash, zsh, fish)",
		Action: unknownSubcommand,
		Subcommands: []*cli.Command{
			shell("bash", bashCompletion),
			shell("zsh", zshCompletion),
			{
				Name:  "fish",
				Usage: "print the fish completion script",
				Action: func(c *cli.Context) error {
					script, err := c.App.ToFishCompletion()
					if err != nil {
						return err
					}
					_, err = fmt.Fprint(c.App.Writer, script)
					return err
				},
			},
		},
	}
}

func manCommand() *cli.Command {
	return &cli.Command{
		Name:      "man",
		Usage:     "print hermes's man page (roff), generated from the commands and flags",
		ArgsUsage: " ",
		Action: func(c *cli.Context) error {
			_, err := fmt.Fprint(c.App.Writer, manPage(c.App))
			return err
		},
	}
}
