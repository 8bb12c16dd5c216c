package agents_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/yizhu-health/yizhu/agents"
	"github.com/yizhu-health/yizhu/agents/llmtest"
	"github.com/yizhu-health/yizhu/agents/provider"
)

func BenchmarkParseJSON(b *testing.B) {
	v := agents.NewValidator()
	raw, err := json.Marshal(goodReco)
	if err != nil {
		b.Fatal(err)
	}
	reply := "```json\n" + string(raw) + "\n```"
	b.SetBytes(int64(len(reply)))
	for b.Loop() {
		if _, err := agents.ParseJSON[reco](reply, v); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "replies/s")
}

// BenchmarkDecodeLoopback measures the runtime's own cost per structured
// call: render, the real OpenAI client over loopback HTTP to a scripted
// server, strict decode and validation.
func BenchmarkDecodeLoopback(b *testing.B) {
	srv := llmtest.NewServer(b, llmtest.WithHandler(func(llmtest.Request) llmtest.Reply { return llmtest.JSON(goodReco) }))
	m, err := provider.NewModel(provider.Config{Kind: provider.KindOpenAI, BaseURL: srv.OpenAIBaseURL(), Model: "m"})
	if err != nil {
		b.Fatal(err)
	}
	set := testPromptsTB(b)
	r, err := agents.New(agents.Config{Model: m, Prompts: set, Timeout: time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	in := map[string]any{"complaint": "胸痛伴出汗半小时"}
	for b.Loop() {
		if _, _, err := agents.Decode[reco](b.Context(), r, "reco", in); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
}
