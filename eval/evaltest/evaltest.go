// Package evaltest helps suite authors test an eval suite the way the
// harness runs it: on a fixture data directory, through eval.Runner, with
// a fixed clock, checking that the report is valid and deterministic.
package evaltest

import (
	"maps"
	"testing"
	"time"

	"github.com/yizhu-health/yizhu/eval"
)

// Clock returns a clock that starts at 2026-01-01T00:00:00Z and advances
// one millisecond per call, so durations and latencies are reproducible.
func Clock() func() time.Time {
	t := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return func() time.Time {
		t = t.Add(time.Millisecond)
		return t
	}
}

// Run runs s on dataDir through eval.Runner (output in a temporary
// directory) twice, fails tb if either run fails, if the report does not
// validate or if the two runs' metrics, tables or notes differ, and
// returns the first report.
func Run(tb testing.TB, s eval.Suite, dataDir string, deps eval.Deps) *eval.Report {
	tb.Helper()
	first := runOnce(tb, s, dataDir, deps)
	second := runOnce(tb, s, dataDir, deps)
	if !maps.Equal(first.Metrics, second.Metrics) {
		tb.Errorf("suite %s: metrics differ between two runs:\n%v\n%v", s.Name(), first.Metrics, second.Metrics)
	}
	if first.N != second.N || len(first.Notes) != len(second.Notes) {
		tb.Errorf("suite %s: N or notes differ between two runs", s.Name())
	}
	for i := range min(len(first.Notes), len(second.Notes)) {
		if first.Notes[i] != second.Notes[i] {
			tb.Errorf("suite %s: note %d differs between runs: %q vs %q", s.Name(), i, first.Notes[i], second.Notes[i])
		}
	}
	return first
}

func runOnce(tb testing.TB, s eval.Suite, dataDir string, deps eval.Deps) *eval.Report {
	tb.Helper()
	reg := eval.NewRegistry(deps)
	if err := reg.Register(s); err != nil {
		tb.Fatalf("register suite: %v", err)
	}
	rn, err := eval.New(eval.Config{Registry: reg, DataDir: dataDir, OutDir: tb.TempDir(), GitCommit: "test", Clock: Clock()})
	if err != nil {
		tb.Fatalf("eval.New: %v", err)
	}
	reps, err := rn.Run(tb.Context(), []string{s.Name()})
	if err != nil {
		tb.Fatalf("suite %s: %v", s.Name(), err)
	}
	if err := reps[0].Validate(); err != nil {
		tb.Fatalf("suite %s: %v", s.Name(), err)
	}
	return reps[0]
}
