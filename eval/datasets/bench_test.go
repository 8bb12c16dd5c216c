package datasets_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/yizhu-health/yizhu/eval/datasets"
)

// BenchmarkScanDepartmentCSV streams 10,000 generated department rows
// (about the shape of triage/cn-internal-medicine/dev.csv).
func BenchmarkScanDepartmentCSV(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("department,title,ask,answer\n")
	for i := range 10000 {
		fmt.Fprintf(&sb, "心血管科,胸闷%d次怎么办?,\"最近爬楼梯就胸闷，休息一会儿好了，已经%d天\",建议做心电图和心脏彩超检查。\n", i, i%30)
	}
	in := sb.String()
	b.SetBytes(int64(len(in)))
	b.ResetTimer()
	for b.Loop() {
		n := 0
		err := datasets.ScanDepartmentCSV(strings.NewReader(in), "bench.csv", datasets.Limits{}, func(datasets.DepartmentQuestion) error {
			n++
			return nil
		})
		if err != nil || n != 10000 {
			b.Fatalf("n=%d err=%v", n, err)
		}
	}
	b.ReportMetric(10000*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkScanKUAKEQIC streams a generated 10,000-item JSON array.
func BenchmarkScanKUAKEQIC(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("[\n")
	for i := range 10000 {
		if i > 0 {
			sb.WriteString(",\n")
		}
		fmt.Fprintf(&sb, `  {"id": "s%d", "query": "心肌缺血如何治疗与调养呢？第%d问", "label": "治疗方案"}`, i, i)
	}
	sb.WriteString("\n]\n")
	in := sb.String()
	b.SetBytes(int64(len(in)))
	b.ResetTimer()
	for b.Loop() {
		n := 0
		err := datasets.ScanKUAKEQIC(strings.NewReader(in), "bench.json", datasets.Limits{}, func(datasets.IntentQuery) error {
			n++
			return nil
		})
		if err != nil || n != 10000 {
			b.Fatalf("n=%d err=%v", n, err)
		}
	}
	b.ReportMetric(10000*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
