package gateway

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
)

// PIDKind marks a pid record as a gateway's, as the Python side does.
const PIDKind = "hermes-gateway"

// PIDRecord is gateway.pid: which process runs a profile's gateway.
type PIDRecord struct {
	PID        int
	Kind       string
	Argv       []string
	StartTime  *int64
	HermesHome string
}

// NewPIDRecord describes this process, running for the profile at home.
func NewPIDRecord(home string) PIDRecord {
	pid := os.Getpid()
	return PIDRecord{PID: pid, Kind: PIDKind, Argv: os.Args, StartTime: StartTime(pid), HermesHome: home}
}

// marshal writes the record as Python's json.dump writes it by default
// (", " and ": " separators), keys in the Python side's order.
func (r PIDRecord) marshal() ([]byte, error) {
	var b bytes.Buffer
	field := func(first bool, key string, v any) error {
		if !first {
			b.WriteString(", ")
		}
		raw, err := marshalPython(v)
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%q: ", key)
		if list, ok := v.([]string); ok {
			raw = pythonList(list)
		}
		b.Write(raw)
		return nil
	}
	b.WriteByte('{')
	argv := r.Argv
	if argv == nil {
		argv = []string{}
	}
	for i, kv := range []struct {
		k string
		v any
	}{{"pid", r.PID}, {"kind", r.Kind}, {"argv", argv}, {"start_time", r.StartTime}, {"hermes_home", r.HermesHome}} {
		if err := field(i == 0, kv.k, kv.v); err != nil {
			return nil, err
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// pythonList writes a list of strings with Python's default ", ".
func pythonList(list []string) []byte {
	parts := make([]string, len(list))
	for i, s := range list {
		raw, _ := marshalPython(s)
		parts[i] = string(raw)
	}
	return []byte("[" + strings.Join(parts, ", ") + "]")
}

// WritePIDRecord replaces dir/gateway.pid atomically.
func WritePIDRecord(dir string, r PIDRecord) error { return Upstream.WritePIDRecord(dir, r) }

// WritePIDRecord replaces the claim's pid record in dir atomically.
func (c Claim) WritePIDRecord(dir string, r PIDRecord) error {
	data, err := r.marshal()
	if err != nil {
		return err
	}
	return writeFile(dir, c.PIDFile, data, 0o644)
}

// ReadPIDRecord reads dir/gateway.pid: a JSON record, or the bare pid older
// writers left. Missing or unreadable as a record: nil, and no error unless
// the file exists but cannot be read.
func ReadPIDRecord(dir string) (*PIDRecord, error) { return Upstream.ReadPIDRecord(dir) }

// ReadPIDRecord reads the claim's pid record in dir, as the package's
// ReadPIDRecord reads gateway.pid (a symlink, or a record over MaxFileSize,
// is an error).
func (c Claim) ReadPIDRecord(dir string) (*PIDRecord, error) {
	data, err := readFile(dir, c.PIDFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	text := strings.TrimSpace(string(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))))
	if pid, err := strconv.Atoi(text); err == nil && pid > 0 {
		return &PIDRecord{PID: pid}, nil
	}
	o, err := parseObject([]byte(text))
	if err != nil {
		return nil, nil
	}
	r := &PIDRecord{}
	if !o.get("pid", &r.PID) || r.PID <= 0 {
		return nil, nil
	}
	o.get("kind", &r.Kind)
	o.get("argv", &r.Argv)
	o.get("start_time", &r.StartTime)
	o.get("hermes_home", &r.HermesHome)
	return r, nil
}

// RemovePIDRecord removes dir/gateway.pid if it still names pid (another
// runner may have taken over and written its own).
func RemovePIDRecord(dir string, pid int) error { return Upstream.RemovePIDRecord(dir, pid) }

// RemovePIDRecord removes the claim's pid record in dir if it still names
// pid.
func (c Claim) RemovePIDRecord(dir string, pid int) error {
	r, err := c.ReadPIDRecord(dir)
	if err != nil || r == nil || r.PID != pid {
		return err
	}
	return removeFile(dir, c.PIDFile)
}

// Stale says why a record no longer describes a live gateway: "" when it
// still does, else the reason (dead pid, or the pid now belongs to a process
// that started later).
func (r PIDRecord) Stale() string {
	if !Alive(r.PID) {
		return fmt.Sprintf("process %d is gone", r.PID)
	}
	if r.StartTime != nil {
		if cur := StartTime(r.PID); cur != nil && *cur != *r.StartTime {
			return fmt.Sprintf("pid %d now belongs to another process (start time %d, recorded %d)", r.PID, *cur, *r.StartTime)
		}
	}
	return ""
}
