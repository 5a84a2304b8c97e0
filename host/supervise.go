package host

import (
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/nousresearch/hermes-service/internal/privatetree"
)

func superviseCommand() *cli.Command {
	return &cli.Command{
		Name:      "supervise",
		Usage:     "run a private s6 supervision tree for machines without a usable init system",
		ArgsUsage: " ",
		Description: "Starts s6-svscan, owned by you, on <home>/run/service in the background (again: a no-op).\n" +
			"While it runs, hermes uses it as its s6 backend: register, start and stop gateways as in an\n" +
			"s6-overlay container. For containers without s6-overlay, WSL without systemd, CI.",
		Flags: []cli.Flag{&cli.BoolFlag{Name: "stop", Usage: "end the tree cleanly: its gateways are stopped first"}},
		Action: func(c *cli.Context) error {
			s, err := flagsOnlySession(c)
			if err != nil {
				return err
			}
			t := privatetree.Of(s.home)
			if c.Bool("stop") {
				return stopTree(s, t)
			}
			return startTree(s, t)
		},
	}
}

func startTree(s *session, t privatetree.Tree) error {
	pid, started, err := t.Start(s.ctx)
	var missing *privatetree.MissingToolError
	if errors.As(err, &missing) {
		return &ConfigError{Err: err}
	}
	if err != nil {
		return err
	}
	if !started {
		fmt.Fprintf(s.stdout, "the private supervision tree is already running (s6-svscan pid %d on %s)\n", pid, t.ScanDir)
		return nil
	}
	fmt.Fprintf(s.stdout, "started a private supervision tree: s6-svscan pid %d on %s\nhermes now uses it as its s6 backend; end it with: hermes gateway supervise --stop\n", pid, t.ScanDir)
	return nil
}

func stopTree(s *session, t privatetree.Tree) error {
	pid, err := t.Stop(s.ctx)
	var missing *privatetree.MissingToolError
	if errors.As(err, &missing) {
		return &ConfigError{Err: err}
	}
	if err != nil {
		return err
	}
	if pid == 0 {
		fmt.Fprintln(s.stdout, "the private supervision tree is not running")
		return nil
	}
	fmt.Fprintf(s.stdout, "stopped the private supervision tree (s6-svscan pid %d)\n", pid)
	return nil
}
