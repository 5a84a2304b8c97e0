package systemd

import (
	"context"
	"fmt"
	"os"
	"time"

	sdbus "github.com/coreos/go-systemd/v22/dbus"
)

// systemPrivateSocket is the system manager's own D-Bus socket: root talks
// to systemd there without a bus daemon (what systemctl itself does).
const systemPrivateSocket = "/run/systemd/private"

// defaultSystemUnitDir is where the system manager reads units written by
// an administrator.
const defaultSystemUnitDir = "/etc/systemd/system"

// showOverBus asks the system manager itself for the units' properties,
// over its private socket, in this process: a status then costs no
// systemctl process (about 7 ms, as much as the rest of status). It
// answers only for root's system units in the manager's own unit folder
// (units elsewhere are not the manager's: a test's fakes answer for them);
// ok is false whenever it cannot, and the caller asks systemctl.
func (b *Backend) showOverBus(ctx context.Context, s scope, names []string) (blocks map[string]map[string]string, ok bool) {
	if !s.system || !b.cfg.Root || s.dir != defaultSystemUnitDir {
		return nil, false
	}
	if _, err := os.Stat(systemPrivateSocket); err != nil {
		return nil, false
	}
	conn, err := sdbus.NewSystemdConnectionContext(ctx)
	if err != nil {
		b.Log().Debug("the system manager's private socket did not answer; asking systemctl", "error", err)
		return nil, false
	}
	defer conn.Close()
	blocks = map[string]map[string]string{}
	for _, name := range names {
		unit, err := conn.GetUnitPropertiesContext(ctx, name)
		if err != nil {
			b.Log().Debug("the system manager did not give the unit's properties; asking systemctl", "unit", name, "error", err)
			return nil, false
		}
		blk := map[string]string{}
		for _, k := range []string{"Id", "LoadState", "ActiveState", "SubState", "UnitFileState"} {
			blk[k] = fmt.Sprint(unit[k])
		}
		blk["StateChangeTimestamp"] = busTimestamp(unit["StateChangeTimestamp"])
		if blk["LoadState"] != "not-found" {
			svc, err := conn.GetUnitTypePropertiesContext(ctx, name, "Service")
			if err != nil {
				b.Log().Debug("the system manager did not give the service's properties; asking systemctl", "unit", name, "error", err)
				return nil, false
			}
			for _, k := range []string{"Result", "MainPID", "ExecMainCode", "ExecMainStatus", "NRestarts"} {
				if v, ok := svc[k]; ok {
					blk[k] = fmt.Sprint(v)
				}
			}
		}
		blocks[name] = blk
	}
	return blocks, true
}

// busTimestamp writes a D-Bus timestamp (microseconds since the epoch, 0
// for none) as systemctl show --timestamp=us+utc does, for parseTimestamp.
func busTimestamp(v any) string {
	us, ok := v.(uint64)
	if !ok || us == 0 {
		return "n/a"
	}
	return time.UnixMicro(int64(us)).UTC().Format("Mon 2006-01-02 15:04:05.000000 MST")
}
