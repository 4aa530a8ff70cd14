package advise

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Print writes the report for people.
func Print(w io.Writer, r Report) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "Records of %s\n", strings.Join(r.Processes, ", "))
	fmt.Fprintf(tw, "One hop over HTTP, %s:\n", r.HopSource)
	for _, h := range r.Hops {
		fmt.Fprintf(tw, "  %d B in, %d B out\tp50 %s\tp99 %s\tCPU %s\n", h.RequestBytes, h.ResponseBytes,
			dur(h.P50), dur(h.P99), dur(h.CPUSeconds))
	}
	for _, c := range r.Candidates {
		fmt.Fprintf(tw, "\n%s: %s\n", c.Name, groups(c.Groups))
		fmt.Fprintf(tw, "  route\treq/s\tnow p50\tadded p50\tadded p99\tfan-out\tdepth\tcrossing calls/req\tbytes/req\n")
		quiet := 0
		for _, rp := range c.Routes {
			if rp.FanOut == 0 {
				quiet++
				continue
			}
			fmt.Fprintf(tw, "  %s %s\t%.1f\t%s\t%s\t%s\t%.1f\t%d\t%.1f\t%.0f\n", rp.Method, rp.Route, rp.Rate, dur(rp.NowP50),
				signed(rp.AddedP50), signed(rp.AddedP99), rp.FanOut, rp.MaxDepth, rp.CrossingCalls, rp.CrossingBytes)
		}
		if quiet > 0 {
			fmt.Fprintf(tw, "  (%d routes make no contract call: nothing to add)\n", quiet)
		}
		fmt.Fprintf(tw, "  added CPU %s/s; over the network %.1f calls/s, %s/s\n", dur(c.CPUSecondsPerSecond),
			c.CallsPerSecond, size(c.BytesPerSecond))
		for _, e := range c.Expensive {
			fmt.Fprintf(tw, "  expensive: %s\t%.1f calls/s\t%.0f B a call\thop p50 %s\n", e.Edge, e.CallsPerSecond, e.BytesPerCall, dur(e.HopP50))
		}
		if len(c.Expensive) == 0 {
			fmt.Fprintf(tw, "  nothing crosses the network\n")
		}
	}
	return tw.Flush()
}

func groups(gs [][]string) string {
	var parts []string
	for _, g := range gs {
		parts = append(parts, "{"+strings.Join(g, ", ")+"}")
	}
	return strings.Join(parts, " ")
}

func dur(seconds float64) string {
	return time.Duration(seconds * float64(time.Second)).Round(time.Microsecond).String()
}

func signed(seconds float64) string {
	if seconds >= 0 {
		return "+" + dur(seconds)
	}
	return dur(seconds)
}

func size(b float64) string {
	switch {
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MiB", b/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.1f KiB", b/(1<<10))
	}
	return fmt.Sprintf("%.0f B", b)
}
