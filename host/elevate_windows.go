//go:build windows

package host

import (
	"errors"
	"os"
	"strings"
	"unsafe"

	"golang.org/x/sys/windows"
)

// shellExecuteInfo is SHELLEXECUTEINFOW; Go's alignment of uintptr fields
// matches the C layout on 64-bit Windows.
type shellExecuteInfo struct {
	cbSize   uint32
	fMask    uint32
	hwnd     uintptr
	verb     *uint16
	file     *uint16
	params   *uint16
	dir      *uint16
	show     int32
	instApp  uintptr
	idList   uintptr
	class    *uint16
	keyClass uintptr
	hotKey   uint32
	icon     uintptr
	process  windows.Handle
}

const (
	seeMaskNoCloseProcess = 0x40
	seeMaskNoAsync        = 0x100
	swHide                = 0
)

var shellExecuteEx = windows.NewLazySystemDLL("shell32.dll").NewProc("ShellExecuteExW")

// elevatedRerun runs this hermes again with args through UAC's "runas" and
// waits for it, returning its exit code: the elevated handoff of install.
func elevatedRerun(args []string) (int, error) {
	exe, err := os.Executable()
	if err != nil {
		return 1, err
	}
	var quoted []string
	for _, a := range args {
		if a != "--elevated-handoff" {
			quoted = append(quoted, windows.EscapeArg(a))
		}
	}
	verb, _ := windows.UTF16PtrFromString("runas")
	file, _ := windows.UTF16PtrFromString(exe)
	params, _ := windows.UTF16PtrFromString(strings.Join(quoted, " "))
	info := shellExecuteInfo{fMask: seeMaskNoCloseProcess | seeMaskNoAsync, verb: verb, file: file, params: params, show: swHide}
	info.cbSize = uint32(unsafe.Sizeof(info))
	if ok, _, err := shellExecuteEx.Call(uintptr(unsafe.Pointer(&info))); ok == 0 {
		return 1, err
	}
	if info.process == 0 {
		return 1, errors.New("the elevated hermes did not start")
	}
	defer windows.CloseHandle(info.process)
	if _, err := windows.WaitForSingleObject(info.process, windows.INFINITE); err != nil {
		return 1, err
	}
	var code uint32
	if err := windows.GetExitCodeProcess(info.process, &code); err != nil {
		return 1, err
	}
	return int(code), nil
}
