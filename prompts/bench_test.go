package prompts_test

import (
	"testing"

	"github.com/yizhu-health/yizhu/prompts"
)

func BenchmarkRender(b *testing.B) {
	set, err := prompts.Default()
	if err != nil {
		b.Fatal(err)
	}
	input := map[string]any{
		"problems": []any{"reply is not valid JSON", `field "department" is required`},
		"output":   `{"department": string, "acuity": 1-4}`,
	}
	var chars int
	for b.Loop() {
		msgs, _, err := set.Render("json_repair", input)
		if err != nil {
			b.Fatal(err)
		}
		chars = len(msgs[0].Text)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "renders/s")
	b.ReportMetric(float64(chars), "bytes/render")
}

func BenchmarkLoad(b *testing.B) {
	for b.Loop() {
		if _, err := prompts.Default(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "loads/s")
}
