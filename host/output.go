package host

import (
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/nousresearch/hermes-service/shared/service"
)

// printStatus writes one profile's status for a person.
func printStatus(w io.Writer, st service.Status, d Detection) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s\t%s\n", k, v) }
	row("profile", st.Profile)
	row("backend", st.Backend+" ("+d.Reason+")")
	row("installed", yesNo(&st.Installed))
	row("state", string(st.State))
	row("pid", intText(st.PID))
	row("since", sinceText(st.Since, time.Now()))
	row("last exit", intText(st.LastExit))
	row("restarts", intText(st.Restarts))
	row("enabled", yesNo(st.Enabled))
	row("desired state", strText(st.DesiredState))
	row("unit", strText(st.Unit))
	if st.Detail != "" {
		row("detail", st.Detail)
	}
	tw.Flush()
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

func sinceText(t *time.Time, now time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.RFC3339) + " (" + ago(now.Sub(*t)) + ")"
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
