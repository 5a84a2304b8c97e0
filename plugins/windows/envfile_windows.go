//go:build windows

package windows

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"
	"unsafe"

	win "golang.org/x/sys/windows"
)

// envFileSDDL is EnvFile's ACL: protected (nothing inherited from a home
// its user may open to others), full control for SYSTEM and Administrators
// and nobody else. The owner is left to Windows: an elevated installer's
// default owner is Administrators.
const envFileSDDL = "D:P(A;;FA;;;SY)(A;;FA;;;BA)"

// maxEnvFile bounds what the service reads: an environment is a few lines.
const maxEnvFile = 1 << 20

// writeEnvFile keeps env in dir's EnvFile, byte for byte, readable by
// SYSTEM and Administrators only; no env removes the file. The file is
// made beside its place under a fresh name (with its ACL from the start,
// so it is never readable by others) and renamed over it.
func writeEnvFile(dir string, env map[string]string) error {
	path := filepath.Join(dir, EnvFile)
	if len(env) == 0 {
		return removeEnvFile(dir)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(env); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	sd, err := win.SecurityDescriptorFromString(envFileSDDL)
	if err != nil {
		return err
	}
	sa := &win.SecurityAttributes{SecurityDescriptor: sd}
	sa.Length = uint32(unsafe.Sizeof(*sa))
	tmp := filepath.Join(dir, "."+EnvFile+"."+strconv.FormatInt(time.Now().UnixNano(), 36)+".tmp")
	name, err := win.UTF16PtrFromString(tmp)
	if err != nil {
		return err
	}
	// CREATE_NEW and no following of links: a name someone planted in a
	// home they may write is refused, never written through.
	h, err := win.CreateFile(name, win.GENERIC_WRITE, 0, sa, win.CREATE_NEW,
		win.FILE_ATTRIBUTE_NORMAL|win.FILE_FLAG_OPEN_REPARSE_POINT, 0)
	if err != nil {
		return fmt.Errorf("create %s: %w", tmp, err)
	}
	f := os.NewFile(uintptr(h), tmp)
	_, err = f.Write(buf.Bytes())
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = win.MoveFileEx(name, utf16(path), win.MOVEFILE_REPLACE_EXISTING|win.MOVEFILE_WRITE_THROUGH)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func utf16(s string) *uint16 {
	p, _ := win.UTF16PtrFromString(s)
	return p
}

// removeEnvFile removes dir's EnvFile; a missing one is fine.
func removeEnvFile(dir string) error {
	if err := os.Remove(filepath.Join(dir, EnvFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// UntrustedEnvFileError is an EnvFile the service will not read: someone
// other than SYSTEM, Administrators or the service's own account owns it or
// may read or write it (a user's home is theirs to write, and a file they
// put there would choose the environment of a program the service runs).
type UntrustedEnvFileError struct {
	Path, Reason string
}

func (e *UntrustedEnvFileError) Error() string {
	return fmt.Sprintf("the service's environment %s is not trusted: %s", e.Path, e.Reason)
}

// Hint says how to write a trusted one.
func (e *UntrustedEnvFileError) Hint() string {
	return "install the service again from an elevated prompt (hermes gateway install --force ...), which rewrites it"
}

// readEnvFile reads dir's EnvFile for the service process: nil without
// one, an *UntrustedEnvFileError for one it must not trust.
func readEnvFile(dir string) (map[string]string, error) {
	path := filepath.Join(dir, EnvFile)
	h, err := win.CreateFile(utf16(path), win.GENERIC_READ|win.READ_CONTROL, win.FILE_SHARE_READ, nil, win.OPEN_EXISTING,
		win.FILE_ATTRIBUTE_NORMAL|win.FILE_FLAG_OPEN_REPARSE_POINT, 0)
	if errors.Is(err, win.ERROR_FILE_NOT_FOUND) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	f := os.NewFile(uintptr(h), path)
	defer f.Close()
	var info win.ByHandleFileInformation
	if err := win.GetFileInformationByHandle(h, &info); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if info.FileAttributes&win.FILE_ATTRIBUTE_REPARSE_POINT != 0 {
		return nil, &UntrustedEnvFileError{Path: path, Reason: "it is a link, not a file"}
	}
	if why := envFileDistrust(h); why != "" {
		return nil, &UntrustedEnvFileError{Path: path, Reason: why}
	}
	data, err := io.ReadAll(io.LimitReader(f, maxEnvFile+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(data) > maxEnvFile {
		return nil, fmt.Errorf("read %s: larger than %d bytes", path, maxEnvFile)
	}
	var env map[string]string
	if err := json.Unmarshal(data, &env); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return env, nil
}

// envFileDistrust says why the open file h may not hold a service's
// environment, "" when it may: its owner and everyone its ACL lets in must
// be SYSTEM, Administrators or the account reading it.
func envFileDistrust(h win.Handle) string {
	sd, err := win.GetSecurityInfo(h, win.SE_FILE_OBJECT, win.OWNER_SECURITY_INFORMATION|win.DACL_SECURITY_INFORMATION)
	if err != nil {
		return "its security cannot be read: " + err.Error()
	}
	trusted := trustedSIDs()
	owner, _, err := sd.Owner()
	if err != nil || owner == nil {
		return "it has no owner"
	}
	if !trustedSID(trusted, owner) {
		return "it belongs to " + owner.String()
	}
	dacl, _, err := sd.DACL()
	if err != nil || dacl == nil {
		return "it has no access list, so everyone may read and write it"
	}
	for i := range uint32(dacl.AceCount) {
		var ace *win.ACCESS_ALLOWED_ACE
		if err := win.GetAce(dacl, i, &ace); err != nil {
			return "its access list cannot be read: " + err.Error()
		}
		if ace.Header.AceType != win.ACCESS_ALLOWED_ACE_TYPE {
			continue // a deny takes nothing away from the file's safety
		}
		sid := (*win.SID)(unsafe.Pointer(&ace.SidStart))
		if !trustedSID(trusted, sid) {
			return "its access list lets " + sid.String() + " in"
		}
	}
	return ""
}

// trustedSIDs are who may own and open a service's environment: SYSTEM,
// Administrators, and the account this process runs as (the service's,
// LocalSystem by default; under Wine, the one user everything runs as).
func trustedSIDs() []*win.SID {
	var sids []*win.SID
	for _, t := range []win.WELL_KNOWN_SID_TYPE{win.WinLocalSystemSid, win.WinBuiltinAdministratorsSid} {
		if s, err := win.CreateWellKnownSid(t); err == nil {
			sids = append(sids, s)
		}
	}
	if u, err := win.GetCurrentProcessToken().GetTokenUser(); err == nil {
		sids = append(sids, u.User.Sid)
	}
	return sids
}

func trustedSID(trusted []*win.SID, sid *win.SID) bool {
	for _, t := range trusted {
		if t.Equals(sid) {
			return true
		}
	}
	return false
}
