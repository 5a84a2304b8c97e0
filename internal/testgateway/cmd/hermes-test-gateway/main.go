// Command hermes-test-gateway stands in for the Hermes gateway in tests: it
// logs what it sees and reacts to signals the way the real gateway does.
//
//	TESTGATEWAY_EXIT=N         exit with status N after 100 ms
//	TESTGATEWAY_IGNORE_TERM=1  ignore SIGTERM (only SIGKILL ends it)
//	TESTGATEWAY_PIDFILE=PATH   write its pid there once started
//	TESTGATEWAY_ENV=K1,K2      print those variables, each on a line
//	TESTGATEWAY_ENV_FILE=PATH  write its whole environment there once
//	                           started (atomically), each NAME=value
//	                           ended by a NUL byte, as the process got it,
//	                           so a test compares values byte for byte
//	TESTGATEWAY_DRAIN=D        on SIGTERM or SIGINT, drain for D (a Go
//	                           duration) before it exits, as a gateway
//	                           finishing its work would
//	TESTGATEWAY_GRANDCHILD=PATH  start a child of its own in its process
//	                           group, a copy of itself that ignores SIGTERM
//	                           and SIGINT and only sleeps, and write that
//	                           child's pid to PATH once it runs (as a
//	                           gateway's helper would outlive a gateway
//	                           that was killed)
//
// It prints a line per event, so a test can follow it on stdout.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// grandchildRole is the environment of the copy TESTGATEWAY_GRANDCHILD
// starts.
const grandchildRole = "TESTGATEWAY_ROLE=grandchild"

func main() {
	if os.Getenv("TESTGATEWAY_ROLE") == "grandchild" {
		grandchild()
	}
	for _, a := range os.Args[1:] {
		if a == "--help" || a == "-h" {
			// A program asked for its help prints it and starts nothing.
			fmt.Println("usage: hermes-test-gateway [ARG...] (a stand-in gateway for tests; see its package doc)")
			return
		}
	}
	// Handlers first: a test signals as soon as it reads "started", and an
	// unhandled SIGUSR1 would kill the process instead of being reported.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.Signal(0xa) /* SIGUSR1 */, syscall.SIGHUP)
	fmt.Printf("test gateway started pid=%d HERMES_HOME=%s args=%q\n", os.Getpid(), os.Getenv("HERMES_HOME"), os.Args[1:])
	for _, k := range strings.Split(os.Getenv("TESTGATEWAY_ENV"), ",") {
		if k != "" {
			v, ok := os.LookupEnv(k)
			fmt.Printf("env %s=%q set=%v\n", k, v, ok)
		}
	}
	if path := os.Getenv("TESTGATEWAY_ENV_FILE"); path != "" {
		if err := writeEnv(path); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	}
	if path := os.Getenv("TESTGATEWAY_PIDFILE"); path != "" {
		if err := os.WriteFile(path, []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	}
	if path := os.Getenv("TESTGATEWAY_GRANDCHILD"); path != "" {
		if err := startGrandchild(path); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	}
	var exit <-chan time.Time
	if v := os.Getenv("TESTGATEWAY_EXIT"); v != "" {
		exit = time.After(100 * time.Millisecond)
	}
	for {
		select {
		case <-exit:
			code, _ := strconv.Atoi(os.Getenv("TESTGATEWAY_EXIT"))
			fmt.Printf("test gateway exiting with %d\n", code)
			os.Exit(code)
		case s := <-sigs:
			fmt.Printf("test gateway got %v\n", s)
			if s == syscall.SIGTERM && os.Getenv("TESTGATEWAY_IGNORE_TERM") == "1" {
				continue
			}
			if s == syscall.SIGTERM || s == syscall.SIGINT {
				if d, err := time.ParseDuration(os.Getenv("TESTGATEWAY_DRAIN")); err == nil {
					fmt.Printf("test gateway draining for %s\n", d)
					time.Sleep(d) // the drain is the behaviour under test
				}
				fmt.Println("test gateway stopping")
				os.Exit(0)
			}
		}
	}
}

// writeEnv writes the environment to path through a sibling and a rename:
// a reader never sees half of it.
func writeEnv(path string) error {
	var b strings.Builder
	for _, kv := range os.Environ() {
		b.WriteString(kv)
		b.WriteByte(0)
	}
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err := os.WriteFile(tmp, []byte(b.String()), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// startGrandchild starts the copy of itself and waits until it has written
// its pid to path: a test reading "test gateway started" finds it there.
func startGrandchild(path string) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(self)
	// Output to /dev/null: it must not hold the runner's output open.
	cmd.Env = append(os.Environ(), grandchildRole, "TESTGATEWAY_GRANDCHILD=", "TESTGATEWAY_PIDFILE="+path)
	if err := cmd.Start(); err != nil {
		return err
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if data, err := os.ReadFile(path); err == nil && len(data) > 0 {
			fmt.Printf("test gateway started a grandchild pid=%d\n", cmd.Process.Pid)
			return nil
		}
	}
	return fmt.Errorf("the grandchild wrote no pid to %s", path)
}

// grandchild is the copy: it writes its pid (atomically, so a reader never
// sees half of it) and sleeps until it is killed.
func grandchild() {
	signal.Ignore(syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	path := os.Getenv("TESTGATEWAY_PIDFILE")
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err := os.WriteFile(tmp, []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		os.Exit(2)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Exit(2)
	}
	for {
		time.Sleep(time.Hour)
	}
}
