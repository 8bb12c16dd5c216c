package qcreview_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yizhu-health/yizhu/agents"
	"github.com/yizhu-health/yizhu/agents/llmtest"
	"github.com/yizhu-health/yizhu/agents/qcreview"
	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/qc"
	"github.com/yizhu-health/yizhu/rag"
	"github.com/yizhu-health/yizhu/rag/corpus"
	"github.com/yizhu-health/yizhu/rag/embed"
	"github.com/yizhu-health/yizhu/rag/ragtest"
)

var (
	retrOnce sync.Once
	retr     *rag.Retriever
	retrErr  error
)

// retriever is a real retriever over the starter guideline corpus.
func retriever(t *testing.T) *rag.Retriever {
	t.Helper()
	retrOnce.Do(func() {
		ctx := context.Background()
		st := ragtest.NewStore()
		emb, err := embed.New(embed.Config{})
		if err != nil {
			retrErr = err
			return
		}
		r, err := rag.New(rag.Config{Store: st, Embedder: emb})
		if err != nil {
			retrErr = err
			return
		}
		ing, err := rag.NewIngester(rag.IngesterConfig{Store: st, Embedder: emb, Retriever: r})
		if err != nil {
			retrErr = err
			return
		}
		if _, err := ing.IngestFS(ctx, corpus.FS(), rag.DefaultCollection); err != nil {
			retrErr = err
			return
		}
		retr = r
	})
	if retrErr != nil {
		t.Fatal(retrErr)
	}
	return retr
}

// record builds an admission note; sections written for these tests.
func record(sections map[string]string) *qc.Record {
	base := map[string]string{
		"chief_complaint":       "反复胸闷3天",
		"present_illness":       "患者3天前活动后出现胸闷，持续约10分钟，休息后缓解，伴心悸，无胸痛。",
		"physical_exam":         "BP 150/95mmHg，心律齐，未闻及杂音。",
		"auxiliary_exam":        "心电图：窦性心律，V4-V6导联ST段压低0.1mV。",
		"preliminary_diagnosis": "1.冠心病\n2.高血压",
		"treatment_plan":        "完善冠脉造影，予阿司匹林、他汀治疗，监测血压。",
	}
	for k, v := range sections {
		if v == "" {
			delete(base, k)
		} else {
			base[k] = v
		}
	}
	return &qc.Record{ID: "r1", Type: clinic.NoteAdmission, Sections: base}
}

func ids(rv qcreview.Review) []string {
	var out []string
	for _, f := range rv.Findings {
		out = append(out, string(f.RuleID)+"@"+f.Location.Section)
	}
	return out
}

func TestHeuristics(t *testing.T) {
	rv, err := qcreview.New(qcreview.Config{Search: retriever(t)})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		rec      *qc.Record
		want     []string
		wantSpan string // text of the first finding's span
	}{
		{"clean", record(nil), nil, ""},
		{"complaint not in present illness", record(map[string]string{"chief_complaint": "腹痛2天"}), []string{"QCR-001@chief_complaint"}, "腹痛"},
		{"non-lexicon complaint in other words", record(map[string]string{"chief_complaint": "发现直肠癌3个月", "present_illness": "患者3月前行肠镜示直肠腺癌，于我院手术。胸闷心悸。"}), nil, ""},
		{"diagnosis without basis", record(map[string]string{"preliminary_diagnosis": "1.冠心病\n2.高血压\n3.慢性肾脏病"}), []string{"QCR-002@preliminary_diagnosis"}, "慢性肾脏病"},
		{"diagnosis family evidence", record(map[string]string{"preliminary_diagnosis": "1.高血压病3级"}), nil, ""},
		{"abnormal result without plan", record(map[string]string{"auxiliary_exam": "心电图ST段压低。血钾2.9mmol/L，降低。"}), []string{"QCR-003@auxiliary_exam"}, "血钾2.9mmol/L，降低"},
		{"abnormal result with plan", record(map[string]string{"auxiliary_exam": "心电图ST段压低。血钾降低。", "treatment_plan": "予口服补钾，复查电解质。"}), nil, ""},
		{"negated abnormal result", record(map[string]string{"auxiliary_exam": "心电图ST段压低，未见肌钙蛋白升高。"}), nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := rv.Review(t.Context(), tc.rec)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(ids(got), ",") != strings.Join(tc.want, ",") {
				t.Fatalf("findings %v, want %v (%+v)", ids(got), tc.want, got.Findings)
			}
			if got.Engine != qcreview.EngineEmbedded || got.Fallback {
				t.Errorf("engine %s fallback %v", got.Engine, got.Fallback)
			}
			for _, f := range got.Findings {
				if !f.Suggestion || f.Points != 0 || f.Veto || qc.IsDefect(f) {
					t.Errorf("finding must be a pointless suggestion: %+v", f)
				}
				var guideline int
				for _, s := range f.Sources {
					if s.Kind == clinic.SourceGuideline && s.ID != "" && s.Quote != "" {
						guideline++
					}
				}
				if guideline == 0 || f.Sources[0].Kind != clinic.SourceRule {
					t.Errorf("finding %s cites %+v; want its check and guideline chunks", f.RuleID, f.Sources)
				}
			}
			if tc.wantSpan != "" {
				l := got.Findings[0].Location
				text := []rune(tc.rec.Sections[l.Section])
				if l.End > len(text) || string(text[l.Start:l.End]) != tc.wantSpan {
					t.Errorf("span %+v, want %q", l, tc.wantSpan)
				}
			}
		})
	}
}

func TestProgressNotePlan(t *testing.T) {
	rv, err := qcreview.New(qcreview.Config{})
	if err != nil {
		t.Fatal(err)
	}
	rec := &qc.Record{ID: "p", Type: clinic.NoteProgress, ProgressNotes: []qc.ProgressNote{
		{Text: "今日查房，患者无不适。复查血常规示白细胞明显升高。"},
		{Text: "患者体温正常，继续原方案。"},
	}}
	got, err := rv.Review(t.Context(), rec)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(ids(got), ",") != "QCR-003@progress_notes/0" {
		t.Fatalf("findings %v", ids(got))
	}
	if len(got.Notes) == 0 {
		t.Error("no note that findings are uncited without a searcher")
	}
	rec.ProgressNotes[1].Text = "白细胞升高考虑感染，予头孢曲松抗感染，三日后复查血常规。"
	got, err = rv.Review(t.Context(), rec)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Findings) != 0 {
		t.Errorf("a later note takes it up: %v", ids(got))
	}
}

func runner(t *testing.T, srv *llmtest.Server) *agents.Runner {
	t.Helper()
	// A minute: no case here expects a timeout, so a loaded machine must
	// not turn a reply into one.
	return srv.Runner(t, agents.Config{ModelName: "test-model", Timeout: time.Minute})
}

func TestLLMPath(t *testing.T) {
	srv := llmtest.NewServer(t, llmtest.WithReplies(llmtest.JSON(qcreview.LLMOutput{Findings: []qcreview.LLMFinding{{
		Check: "plan_missing", Section: "auxiliary_exam", Quote: "ST段压低0.1mV",
		MessageZH: "ST段压低未见处理", MessageEN: "ST depression not acted on",
	}}})))
	rv, err := qcreview.New(qcreview.Config{Runner: runner(t, srv), Search: retriever(t)})
	if err != nil {
		t.Fatal(err)
	}
	rec := record(nil)
	got, err := rv.Review(t.Context(), rec)
	if err != nil {
		t.Fatal(err)
	}
	if got.Engine != qcreview.EngineLLM || got.Fallback || got.Model != "test-model" || !strings.HasPrefix(got.Prompt, "qcreview_content@") {
		t.Fatalf("review %+v", got)
	}
	if strings.Join(ids(got), ",") != "QCR-003@auxiliary_exam" {
		t.Fatalf("findings %v", ids(got))
	}
	l := got.Findings[0].Location
	if string([]rune(rec.Sections["auxiliary_exam"])[l.Start:l.End]) != "ST段压低0.1mV" {
		t.Errorf("location %+v", l)
	}
	if len(got.Findings[0].Sources) < 2 {
		t.Errorf("LLM findings cite guidelines too: %+v", got.Findings[0].Sources)
	}
	reqs := srv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d model calls", len(reqs))
	}
	var sawRecord bool
	for _, m := range reqs[0].Messages {
		if strings.Contains(m.Content, "[auxiliary_exam] 辅助检查: 心电图") {
			sawRecord = true
		}
	}
	if !sawRecord {
		t.Errorf("the prompt did not carry the record: %+v", reqs[0].Messages)
	}
}

func TestLLMInvalidOutputFallsBack(t *testing.T) {
	bad := llmtest.JSON(qcreview.LLMOutput{Findings: []qcreview.LLMFinding{{
		Check: "plan_missing", Section: "auxiliary_exam", Quote: "血钾2.0mmol/L", // not in the record
		MessageZH: "编造", MessageEN: "invented",
	}}})
	tests := []struct {
		name    string
		replies []llmtest.Reply
		reason  string
	}{
		{"quote not in the record", []llmtest.Reply{bad}, agents.ReasonInvalidOutput},
		{"not JSON twice", []llmtest.Reply{llmtest.Text("我认为没有问题"), llmtest.Text("没有问题")}, agents.ReasonInvalidOutput},
		{"unknown check twice", []llmtest.Reply{llmtest.Text(`{"findings":[{"check":"style","section":"x","quote":"y","message_zh":"z","message_en":"w"}]}`), llmtest.Text(`{"findings":[{"check":"style","section":"x","quote":"y","message_zh":"z","message_en":"w"}]}`)}, agents.ReasonInvalidOutput},
		{"server error", []llmtest.Reply{llmtest.Error(500, "down"), llmtest.Error(500, "down"), llmtest.Error(500, "down")}, agents.ReasonUnavailable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := llmtest.NewServer(t, llmtest.WithReplies(tc.replies...))
			rv, err := qcreview.New(qcreview.Config{Runner: runner(t, srv)})
			if err != nil {
				t.Fatal(err)
			}
			got, err := rv.Review(t.Context(), record(map[string]string{"chief_complaint": "腹痛2天"}))
			if err != nil {
				t.Fatal(err)
			}
			if !got.Fallback || got.FallbackReason != tc.reason || got.Engine != qcreview.EngineEmbedded {
				t.Fatalf("engine %s fallback %v reason %q, want embedded fallback %q", got.Engine, got.Fallback, got.FallbackReason, tc.reason)
			}
			if strings.Join(ids(got), ",") != "QCR-001@chief_complaint" {
				t.Errorf("fallback findings %v, want the heuristics'", ids(got))
			}
		})
	}
}

func TestCancelled(t *testing.T) {
	rv, err := qcreview.New(qcreview.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = rv.Review(ctx, record(nil))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
}

// The suggestions never change what the rule engine decides.
func TestRulesRemainAuthoritative(t *testing.T) {
	e, err := qc.New(qc.Config{})
	if err != nil {
		t.Fatal(err)
	}
	rec := record(map[string]string{"chief_complaint": "腹痛2天"})
	before, err := e.Scan(t.Context(), rec)
	if err != nil {
		t.Fatal(err)
	}
	rv, err := qcreview.New(qcreview.Config{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := rv.Review(t.Context(), rec)
	if err != nil {
		t.Fatal(err)
	}
	after, err := e.Scan(t.Context(), rec)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Findings) == 0 || before.Score != after.Score || before.Grade != after.Grade {
		t.Errorf("review %v; score %v→%v", ids(got), before.Score, after.Score)
	}
	for _, f := range got.Findings {
		if qc.IsDefect(f) {
			t.Errorf("suggestion counted as a defect: %+v", f)
		}
	}
}

func FuzzReview(f *testing.F) {
	rv, err := qcreview.New(qcreview.Config{})
	if err != nil {
		f.Fatal(err)
	}
	f.Add("反复胸闷3天", "血钾降低↓，阳性", "1.冠心病；2.")
	f.Add("", "↑↓升高", "（1）")
	f.Fuzz(func(t *testing.T, cc, aux, dx string) {
		rec := &qc.Record{ID: "f", Type: clinic.NoteAdmission, Sections: map[string]string{
			"chief_complaint": cc, "present_illness": aux + cc, "auxiliary_exam": aux, "preliminary_diagnosis": dx}}
		got, err := rv.Review(context.Background(), rec)
		if err != nil {
			t.Fatal(err)
		}
		for _, fd := range got.Findings {
			text := []rune(rec.Sections[fd.Location.Section])
			if fd.Location.Start < 0 || fd.Location.End > len(text) || fd.Location.Start > fd.Location.End {
				t.Fatalf("span %+v outside %q", fd.Location, string(text))
			}
		}
	})
}

func TestComplaintWordingVariants(t *testing.T) {
	rv, err := qcreview.New(qcreview.Config{})
	if err != nil {
		t.Fatal(err)
	}
	rec := record(map[string]string{
		"chief_complaint": "咳嗽咳痰伴气促10天，为求进一步诊治来我院",
		"present_illness": "患者10天前受凉后出现咳嗽，咳黄痰，伴发热。",
	})
	got, err := rv.Review(t.Context(), rec)
	if err != nil {
		t.Fatal(err)
	}
	// 咳痰 is told as 咳黄痰; the visit phrase is not a complaint; 气促 is missing.
	if strings.Join(ids(got), ",") != "QCR-001@chief_complaint" || !strings.Contains(got.Findings[0].Message, "气促") {
		t.Errorf("findings %+v", got.Findings)
	}
}
