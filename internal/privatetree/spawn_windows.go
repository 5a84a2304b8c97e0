//go:build windows

package privatetree

import (
	"errors"
	"os"

	"github.com/nousresearch/hermes-service/internal/homefs"
)

// A private s6 tree needs Unix; Windows has its Service Control Manager.
func spawnDetached(string, []string, *os.File) (int, error) {
	return 0, errors.New("a private supervision tree needs s6, which runs on Unix; Windows services use the SCM")
}

func raiseOpenFiles(int) {}

func lookPath(name string) (string, error) { return "", errors.New(name + " is not on Windows") }

func runTool(string, ...string) (string, error) { return "", errors.New("no s6 on Windows") }

// notAnothersHome: a Windows home is its user's own.
func notAnothersHome(*homefs.Home) error { return nil }
