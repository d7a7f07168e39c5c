package main

import (
	"github.com/prometheus/client_golang/prometheus"
)

// counters reads the in-process Prometheus counters of name by the value
// of label (the in-process gateway registers its metrics there).
func counters(name, label string) map[string]float64 {
	out := map[string]float64{}
	mfs, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		return out
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			key := ""
			for _, l := range m.GetLabel() {
				if l.GetName() == label {
					key = l.GetValue()
				}
			}
			if c := m.GetCounter(); c != nil {
				out[key] += c.GetValue()
			}
		}
	}
	return out
}

// delta is after minus before, per key.
func delta(before, after map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for k, v := range after {
		if d := v - before[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}
