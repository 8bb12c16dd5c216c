package agents_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/yizhu-health/yizhu/agents"
	"github.com/yizhu-health/yizhu/agents/llmtest"
	"github.com/yizhu-health/yizhu/agents/provider"
)

// TestDeadlineOnFakeClock runs the real client against the in-memory
// server inside a synctest bubble, so the production-sized 30 s deadline is
// exercised exactly, without waiting.
func TestDeadlineOnFakeClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const timeout = 30 * time.Second
		srv := llmtest.NewServer(t, llmtest.InMemory(), llmtest.WithReplies(
			llmtest.JSON(goodReco).After(timeout-time.Second), // just in time
			llmtest.JSON(goodReco).After(timeout+time.Second), // too late
		))
		m, err := provider.NewModel(provider.Config{Kind: provider.KindOpenAI, BaseURL: srv.OpenAIBaseURL(),
			Model: "m", HTTPClient: srv.HTTPClient()})
		if err != nil {
			t.Fatal(err)
		}
		r, err := agents.New(agents.Config{Model: m, ModelName: "m", Prompts: testPrompts(t), Timeout: timeout})
		if err != nil {
			t.Fatal(err)
		}
		in := map[string]any{"complaint": "胸痛"}

		_, meta, err := agents.Decode[reco](t.Context(), r, "reco", in)
		if err != nil {
			t.Fatalf("reply 1 s before the deadline: %v", err)
		}
		if meta.Latency != timeout-time.Second {
			t.Errorf("latency = %v, want %v on the fake clock", meta.Latency, timeout-time.Second)
		}

		got, out, err := agents.WithFallback(t.Context(), r,
			func(ctx context.Context) (reco, error) {
				v, meta, err := agents.Decode[reco](ctx, r, "reco", in)
				if meta.Latency != timeout {
					t.Errorf("latency = %v, want the deadline %v", meta.Latency, timeout)
				}
				return v, err
			},
			func(context.Context) (reco, error) { return reco{Department: "急诊科", Acuity: 2}, nil })
		if err != nil {
			t.Fatal(err)
		}
		if !out.Fallback || out.Reason != agents.ReasonTimeout || got.Department != "急诊科" {
			t.Errorf("outcome %+v, value %+v; want the timeout fallback", out, got)
		}
	})
}
