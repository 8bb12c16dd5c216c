package triage_test

import (
	"encoding/json"
	"runtime"
	"testing"

	"github.com/yizhu-health/yizhu/agents/triage"
	"github.com/yizhu-health/yizhu/clinic"
)

// BenchmarkTurn measures one engine turn: a Start with a typical complaint
// and, alternately, the Answer to its first question.
func BenchmarkTurn(b *testing.B) {
	e := newEngine(b, triage.Config{})
	ctx := b.Context()
	in := triage.Intake{Text: "肚子痛两天", Age: intp(35), Sex: clinic.SexFemale}
	first, err := e.Start(ctx, in)
	if err != nil || first.Kind != triage.TurnQuestion {
		b.Fatalf("first turn %v, %v", first.Kind, err)
	}
	a := triage.Answer{QuestionID: first.Question.ID, Choice: triage.ChoiceNo}
	i := 0
	for b.Loop() {
		if i%2 == 0 {
			_, err = e.Start(ctx, in)
		} else {
			_, err = e.Answer(ctx, first.State, a)
		}
		if err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkIdleSession reports the memory an idle session holds: its State
// after the first question (heap bytes and JSON bytes).
func BenchmarkIdleSession(b *testing.B) {
	e := newEngine(b, triage.Config{})
	in := triage.Intake{Text: "胸口闷，咳嗽一周，晚上睡不好", Age: intp(50), Sex: clinic.SexMale}
	const n = 2000
	var jsonBytes int
	for b.Loop() {
		states := make([]triage.State, n)
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for i := range states {
			t, err := e.Start(b.Context(), in)
			if err != nil {
				b.Fatal(err)
			}
			states[i] = t.State
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "heap-bytes/session")
		js, _ := json.Marshal(states[0])
		jsonBytes = len(js)
		runtime.KeepAlive(states)
	}
	b.ReportMetric(float64(jsonBytes), "json-bytes/session")
}

func BenchmarkExtract(b *testing.B) {
	lex := triage.DefaultLexicon()
	for b.Loop() {
		lex.Extract("胸口痛两个小时，出冷汗，没有发烧，以前有高血压，血压180/110")
	}
}

func BenchmarkRouterPredict(b *testing.B) {
	r, err := triage.Train(readFixture(b))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		r.Predict("乙肝大三阳，转氨酶高，需要抗病毒治疗吗")
	}
}
