package eval_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/eval"
	"github.com/yizhu-health/yizhu/eval/metrics"
)

// fakeSuite returns a fixed report (or error) and records the Env it got.
type fakeSuite struct {
	name string
	rep  eval.Report
	err  error
	env  eval.Env
}

func (f *fakeSuite) Name() string { return f.name }

func (f *fakeSuite) Run(_ context.Context, env eval.Env) (*eval.Report, error) {
	f.env = env
	if f.err != nil {
		return nil, f.err
	}
	r := f.rep
	return &r, nil
}

func TestRegistry(t *testing.T) {
	reg := eval.NewRegistry(eval.Deps{})
	for _, n := range []string{"triage", "ecg", "datasets"} {
		if err := reg.Register(&fakeSuite{name: n}); err != nil {
			t.Fatalf("Register(%s): %v", n, err)
		}
	}
	tests := []struct {
		name string
		s    eval.Suite
		code clinic.Code
	}{
		{"duplicate", &fakeSuite{name: "ecg"}, clinic.CodeConflict},
		{"upper case", &fakeSuite{name: "ECG"}, clinic.CodeInvalid},
		{"path", &fakeSuite{name: "../x"}, clinic.CodeInvalid},
		{"all is reserved", &fakeSuite{name: "all"}, clinic.CodeInvalid},
		{"nil", nil, clinic.CodeInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := clinic.ErrorCode(reg.Register(tc.s)); got != tc.code {
				t.Errorf("code = %q, want %q", got, tc.code)
			}
		})
	}
	if diff := cmp.Diff([]string{"datasets", "ecg", "triage"}, reg.Names()); diff != "" {
		t.Errorf("Names (-want +got):\n%s", diff)
	}
	if _, ok := reg.Get("ecg"); !ok {
		t.Error("Get(ecg) not found")
	}
	if got := reg.Deps().ModelName; got != "none" {
		t.Errorf("default ModelName = %q, want none", got)
	}
}

func TestResolve(t *testing.T) {
	reg := eval.NewRegistry(eval.Deps{})
	for _, n := range []string{"ecg", "triage"} {
		if err := reg.Register(&fakeSuite{name: n}); err != nil {
			t.Fatal(err)
		}
	}
	for spec, want := range map[string][]string{
		"":                {"ecg", "triage"},
		"all":             {"ecg", "triage"},
		"triage":          {"triage"},
		"triage, ecg,ecg": {"triage", "ecg"},
	} {
		got, err := reg.Resolve(spec)
		if err != nil {
			t.Fatalf("Resolve(%q): %v", spec, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Resolve(%q) (-want +got):\n%s", spec, diff)
		}
	}
	_, err := reg.Resolve("scribe")
	if clinic.ErrorCode(err) != clinic.CodeNotFound || !strings.Contains(err.Error(), `unknown suite "scribe"; registered: ecg, triage`) {
		t.Errorf("Resolve(scribe) err = %v", err)
	}
}

// stepClock returns a clock that advances one second per call from a
// fixed instant.
func stepClock() func() time.Time {
	t0 := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	n := 0
	return func() time.Time {
		n++
		return t0.Add(time.Duration(n-1) * time.Second)
	}
}

func sampleReport() eval.Report {
	conf, _ := metrics.NewConfusion([]string{"消化科", "心血管科", "心血管科"}, []string{"消化科", "心血管科", "消化科"})
	lat := metrics.Latency([]time.Duration{time.Millisecond, 3 * time.Millisecond})
	return eval.Report{
		Dataset: "fixture",
		N:       3,
		Metrics: map[string]float64{"accuracy": 2.0 / 3, "macro_f1": 0.6667},
		PerRecord: &eval.Table{Columns: []string{"se", "ppv"}, Rows: []eval.Row{
			{Key: "b", Values: []float64{1, 0.5}}, {Key: "a", Values: []float64{0.5, 1}}}},
		Confusion: conf,
		Latency:   &lat,
		Config:    map[string]string{"model": "none"},
		Notes:     []string{"fixture run"},
	}
}

func newRunner(t *testing.T, reg *eval.Registry) (*eval.Runner, string) {
	t.Helper()
	out := t.TempDir()
	rn, err := eval.New(eval.Config{Registry: reg, DataDir: t.TempDir(), OutDir: out, GitCommit: "abc123", Clock: stepClock()})
	if err != nil {
		t.Fatal(err)
	}
	return rn, out
}

func TestRunnerWritesReports(t *testing.T) {
	ok := &fakeSuite{name: "good", rep: sampleReport()}
	bad := &fakeSuite{name: "bad", err: errors.New("boom")}
	nan := &fakeSuite{name: "nan", rep: eval.Report{Metrics: map[string]float64{"x": math.NaN()}}}
	reg := eval.NewRegistry(eval.Deps{ModelName: "test-model"})
	for _, s := range []eval.Suite{ok, bad, nan} {
		if err := reg.Register(s); err != nil {
			t.Fatal(err)
		}
	}
	rn, out := newRunner(t, reg)
	reports, err := rn.Run(t.Context(), []string{"bad", "good", "nan"})
	if err == nil || !strings.Contains(err.Error(), "suite bad: boom") || !strings.Contains(err.Error(), "metric x is NaN") {
		t.Errorf("Run err = %v, want the bad and nan suites' errors", err)
	}
	if len(reports) != 1 || reports[0].Suite != "good" {
		t.Fatalf("reports = %+v, want only good", reports)
	}
	r := reports[0]
	// The harness stamps commit, start and duration: the clock ticks one
	// second per read; "bad" read it once (09:00:00) before failing, so
	// "good" starts at 09:00:01 and ends at 09:00:02.
	if r.GitCommit != "abc123" || r.Duration != time.Second || !r.StartedAt.Equal(time.Date(2026, 11, 23, 9, 0, 1, 0, time.UTC)) {
		t.Errorf("stamps = %q %v %v", r.GitCommit, r.Duration, r.StartedAt)
	}
	// Rows come out sorted by key.
	if r.PerRecord.Rows[0].Key != "a" {
		t.Errorf("rows not sorted: %+v", r.PerRecord.Rows)
	}
	if ok.env.OutDir != filepath.Join(out, "good") || ok.env.ModelName != "test-model" || ok.env.Logger == nil || ok.env.Clock == nil {
		t.Errorf("env = %+v", ok.env)
	}
	for _, f := range []string{"report.json", "report.html"} {
		if _, err := os.Stat(filepath.Join(out, "good", f)); err != nil {
			t.Errorf("missing %s: %v", f, err)
		}
	}
	back, err := eval.ReadReport(filepath.Join(out, "good", "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(r, back); diff != "" {
		t.Errorf("report.json round trip (-run +read):\n%s", diff)
	}
}

func TestRunIsDeterministic(t *testing.T) {
	run := func() []byte {
		reg := eval.NewRegistry(eval.Deps{})
		if err := reg.Register(&fakeSuite{name: "good", rep: sampleReport()}); err != nil {
			t.Fatal(err)
		}
		rn, out := newRunner(t, reg)
		if _, err := rn.Run(t.Context(), []string{"good"}); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(out, "good", "report.json"))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a, b := run(), run()
	if diff := cmp.Diff(string(a), string(b)); diff != "" {
		t.Errorf("two runs differ (-first +second):\n%s", diff)
	}
	// Metric keys are written sorted.
	var raw struct {
		Metrics json.RawMessage `json:"metrics"`
	}
	if err := json.Unmarshal(a, &raw); err != nil {
		t.Fatal(err)
	}
	if i, j := strings.Index(string(raw.Metrics), "accuracy"), strings.Index(string(raw.Metrics), "macro_f1"); i < 0 || j < i {
		t.Errorf("metric keys not sorted: %s", raw.Metrics)
	}
}

func TestNewRejectsMissingData(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-such-data")
	_, err := eval.New(eval.Config{Registry: eval.NewRegistry(eval.Deps{}), DataDir: missing, OutDir: t.TempDir()})
	if clinic.ErrorCode(err) != clinic.CodeNotFound || !strings.Contains(err.Error(), missing) {
		t.Errorf("err = %v, want not_found naming %s", err, missing)
	}
	if _, err := eval.New(eval.Config{DataDir: t.TempDir(), OutDir: t.TempDir()}); err == nil {
		t.Error("New without registry: want error")
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		r    eval.Report
		ok   bool
	}{
		{"fine", eval.Report{Suite: "x", Metrics: map[string]float64{"a": 1}}, true},
		{"no suite", eval.Report{}, false},
		{"inf", eval.Report{Suite: "x", Metrics: map[string]float64{"a": math.Inf(1)}}, false},
		{"ragged row", eval.Report{Suite: "x", PerClass: &eval.Table{Columns: []string{"p", "r"}, Rows: []eval.Row{{Key: "k", Values: []float64{1}}}}}, false},
		{"nan cell", eval.Report{Suite: "x", PerRecord: &eval.Table{Columns: []string{"p"}, Rows: []eval.Row{{Key: "k", Values: []float64{math.NaN()}}}}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.r.Validate(); (err == nil) != tc.ok {
				t.Errorf("Validate() = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestReadReportErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := eval.ReadReport(bad); clinic.ErrorCode(err) != clinic.CodeInvalid {
		t.Errorf("bad json: err = %v, want invalid", err)
	}
	if _, err := eval.ReadReport(filepath.Join(dir, "absent.json")); clinic.ErrorCode(err) != clinic.CodeNotFound {
		t.Errorf("absent: err = %v, want not_found", err)
	}
}

func TestWriteIndex(t *testing.T) {
	out := t.TempDir()
	for _, name := range []string{"triage", "ecg"} {
		dir := filepath.Join(out, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		r := sampleReport()
		r.Suite = name
		if err := eval.WriteReport(dir, &r); err != nil {
			t.Fatal(err)
		}
	}
	reps, err := eval.WriteIndex(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(reps) != 2 || reps[0].Suite != "ecg" || reps[1].Suite != "triage" {
		t.Fatalf("listed %d reports, want ecg then triage", len(reps))
	}
	page, err := os.ReadFile(filepath.Join(out, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`<a href="ecg/report.html">ecg</a>`, `<a href="triage/report.html">triage</a>`, "accuracy = 0.6667"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("index lacks %q", want)
		}
	}
}
