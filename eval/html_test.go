package eval_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/yizhu-health/yizhu/eval"
	"github.com/yizhu-health/yizhu/eval/metrics"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// goldenReport is a small fixed report touching every part of the page,
// with strings that must be escaped.
func goldenReport() *eval.Report {
	conf, err := metrics.NewConfusion(
		[]string{"心血管科", "心血管科", "消化科", "神经科", "<b>x</b>"},
		[]string{"心血管科", "消化科", "消化科", "神经科", "<b>x</b>"})
	if err != nil {
		panic("eval_test: " + err.Error())
	}
	lat := metrics.Latency([]time.Duration{2 * time.Millisecond, 4 * time.Millisecond, 4 * time.Millisecond, 10 * time.Millisecond})
	return &eval.Report{
		Suite:   "triage",
		Dataset: `cn-internal-medicine "dev" & more`,
		N:       5,
		Metrics: map[string]float64{"accuracy": 0.8, "macro_f1": 0.85, "n_classes": 4},
		PerRecord: &eval.Table{Columns: []string{"records", "errors"}, Chart: "records", Rows: []eval.Row{
			{Key: "triage/a.csv", Values: []float64{120, 0}},
			{Key: "triage/<script>alert(1)</script>.csv", Values: []float64{30, 1}},
		}},
		PerClass: &eval.Table{Columns: []string{"precision", "recall", "f1", "support"}, Rows: []eval.Row{
			{Key: "心血管科", Values: []float64{1, 0.5, 2.0 / 3, 2}},
			{Key: "消化科", Values: []float64{0.5, 1, 2.0 / 3, 1}},
		}},
		Confusion:    conf,
		Latency:      &lat,
		LatencyLabel: "per question",
		Config:       map[string]string{"model": "none", "window": "150ms"},
		GitCommit:    "0123abcd",
		StartedAt:    time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC),
		Duration:     1500 * time.Millisecond,
		Notes:        []string{"Scored <em>every</em> row & reported it.", "ECG not parsed"},
	}
}

func TestRenderHTMLGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := eval.RenderHTML(&buf, goldenReport()); err != nil {
		t.Fatal(err)
	}
	got := buf.String()
	golden := filepath.Join("testdata", "report.golden.html")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./eval -run TestRenderHTMLGolden -update)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("report.html differs from %s (-want +got):\n%s", golden, diff)
	}
}

func TestRenderHTMLSafeAndSelfContained(t *testing.T) {
	var buf bytes.Buffer
	if err := eval.RenderHTML(&buf, goldenReport()); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, bad := range []string{"<script", "<em>", "<b>x</b>", "ZgotmplZ", "src=", "href=", "@import", "url("} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains %q", bad)
		}
	}
	// The only URL is the SVG namespace, which browsers do not fetch.
	urls := regexp.MustCompile(`https?://[^"\s<]+`).FindAllString(page, -1)
	for _, u := range urls {
		if u != "http://www.w3.org/2000/svg" {
			t.Errorf("external reference %s", u)
		}
	}
	for _, want := range []string{
		"&lt;script&gt;alert(1)&lt;/script&gt;", // escaped row key
		"Scored &lt;em&gt;every&lt;/em&gt; row &amp; reported it.",
		`aria-label="confusion matrix"`, `aria-label="per-record bar chart"`, `aria-label="latency histogram"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// The heat map draws one cell per gold/predicted pair: 4 labels → 16 cells.
	if n := strings.Count(page, "of gold row)"); n != 16 {
		t.Errorf("heat map has %d cells, want 16", n)
	}
}
