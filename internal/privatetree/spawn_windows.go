//go:build windows

package privatetree

import "errors"

// A private s6 tree needs Unix; Windows has its Service Control Manager.
func spawnDetached(string, []string, string) (int, error) {
	return 0, errors.New("a private supervision tree needs s6, which runs on Unix; Windows services use the SCM")
}

func lookPath(name string) (string, error) { return "", errors.New(name + " is not on Windows") }

func runTool(string, ...string) (string, error) { return "", errors.New("no s6 on Windows") }
