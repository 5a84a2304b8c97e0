package host

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nousresearch/hermes-service/shared/service"
)

// printStatusTable writes statuses as a table, one row a profile, in as
// few writes as the buffer allows (tabwriter writes a cell at a time: 100,000
// writes for 5,000 profiles).
func printStatusTable(w io.Writer, sts []service.Status, now time.Time) {
	bw := bufio.NewWriterSize(w, 64<<10)
	defer bw.Flush()
	tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PROFILE\tBACKEND\tSTATE\tPID\tUPTIME\tLAST EXIT\tRESTARTS\tENABLED\tDESIRED")
	for _, st := range sts {
		state := string(st.State)
		if !st.Installed {
			state += " (not installed)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", st.Profile, st.Backend, state, intText(st.PID),
			uptime(st, now), intText(st.LastExit), intText(st.Restarts), yesNo(st.Enabled), strText(st.DesiredState))
	}
	tw.Flush()
}

// uptime is how long a running gateway has run, "-" otherwise.
func uptime(st service.Status, now time.Time) string {
	if st.State != service.StateRunning || st.Since == nil {
		return "-"
	}
	return strings.TrimSuffix(ago(now.Sub(*st.Since)), " ago")
}

func intText(p *int) string {
	if p == nil {
		return "-"
	}
	return strconv.Itoa(*p)
}

func strText(p *string) string {
	if p == nil || *p == "" {
		return "-"
	}
	return *p
}

func yesNo(p *bool) string {
	switch {
	case p == nil:
		return "-"
	case *p:
		return "yes"
	}
	return "no"
}

// ago is a duration for a person: "42s ago", "3m ago", "5h12m ago", "2d3h ago".
func ago(d time.Duration) string {
	if d < 0 {
		return "in the future"
	}
	d = d.Truncate(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh%dm ago", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd%dh ago", int(d.Hours())/24, int(d.Hours())%24)
}
