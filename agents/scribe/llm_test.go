package scribe_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/yizhu-health/yizhu/agents"
	"github.com/yizhu-health/yizhu/agents/llmtest"
	"github.com/yizhu-health/yizhu/agents/scribe"
	"github.com/yizhu-health/yizhu/clinic"
)

func llmEngine(t *testing.T, opts ...llmtest.Option) (*scribe.Engine, *llmtest.Server) {
	t.Helper()
	srv := llmtest.NewServer(t, opts...)
	r := srv.Runner(t, agents.Config{ModelName: "qwen-test", Timeout: time.Minute})
	return newEngine(t, scribe.Config{Runner: r}), srv
}

var sectionRE = regexp.MustCompile(`Section: ([a-z_]+) `)

func sectionOf(r llmtest.Request) string {
	for _, m := range r.Messages {
		if s := sectionRE.FindStringSubmatch(m.Content); s != nil {
			return s[1]
		}
	}
	return ""
}

type st = map[string]any

func reply(sts ...st) llmtest.Reply { return llmtest.JSON(map[string]any{"statements": sts}) }

// scripted answers per section, as a model would write them.
var scripted = map[string]llmtest.Reply{
	scribe.SecChiefComplaint: reply(st{"text": "胸闷3天", "sources": []string{"u2"}}),
	scribe.SecPresentIllness: reply(st{"text": "患者3天前出现胸闷，伴心悸。", "sources": []string{"u2"}},
		st{"text": "无胸痛、发热。", "sources": []string{"u3", "u4"}},
		// a number the sources do not have: the verifier must flag it
		st{"text": "胸闷每次持续10分钟。", "sources": []string{"u2"}}),
	scribe.SecPastHistory:     reply(st{"text": "有高血压病史，长期服用氨氯地平。", "sources": []string{"u5", "u6"}}),
	scribe.SecAllergies:       reply(st{"text": "否认药物过敏史。", "sources": []string{"u7", "u8"}}),
	scribe.SecPersonalHistory: reply(),
	scribe.SecFamilyHistory:   reply(),
	scribe.SecPhysicalExam:    reply(st{"text": "心率88次/分，律齐，双肺呼吸音清。", "sources": []string{"u9"}}),
	scribe.SecAuxiliary:       reply(),
	scribe.SecDiagnosis:       reply(st{"text": "冠心病？", "sources": []string{"u10"}}),
	scribe.SecPlan:            reply(st{"text": "建议做心电图和心脏彩超，口服阿司匹林。", "sources": []string{"u10"}}),
}

func TestLLMDraft(t *testing.T) {
	var seen []string
	e, srv := llmEngine(t, llmtest.WithHandler(func(r llmtest.Request) llmtest.Reply {
		sec := sectionOf(r)
		seen = append(seen, sec)
		if rep, ok := scripted[sec]; ok {
			return rep
		}
		return llmtest.Error(500, "unscripted section "+sec)
	}))
	var stages []string
	d, err := e.Draft(context.Background(), scribe.Input{Type: clinic.NoteOutpatient, Utterances: chestDialogue()},
		scribe.WithProgress(func(p scribe.Progress) { stages = append(stages, p.Stage) }))
	if err != nil {
		t.Fatal(err)
	}
	if d.Outcome.Fallback || d.Note.Fallback || d.Note.Author != scribe.AuthorLLM || d.Model != "qwen-test" ||
		len(d.Prompts) == 0 || d.Prompts[0].ID != scribe.SectionPromptID {
		t.Fatalf("draft = %+v", d)
	}
	if len(seen) != 10 {
		t.Errorf("asked for %d sections (%v), want 10", len(seen), seen)
	}
	for _, r := range srv.Requests() {
		if !r.JSONMode {
			t.Error("a section request did not ask for JSON")
		}
	}
	if _, ok := d.Note.Section(scribe.SecFamilyHistory); ok {
		t.Error("empty optional section kept")
	}
	if got := section(t, d.Note, scribe.SecPresentIllness); !strings.Contains(got, "无胸痛、发热。") {
		t.Errorf("present illness = %q", got)
	}
	if len(d.Problems) != 1 || d.Problems[0].Kind != scribe.ProblemNumber || d.Problems[0].Section != scribe.SecPresentIllness {
		t.Errorf("problems = %+v, want the invented duration flagged", d.Problems)
	}
	hpi, _ := d.Note.Section(scribe.SecPresentIllness)
	if !hpi.Statements[2].Unsupported || hpi.Statements[0].Unsupported {
		t.Errorf("present illness statements = %+v", hpi.Statements)
	}
	if !strings.Contains(strings.Join(stages, ","), "llm,section") {
		t.Errorf("stages = %v", stages)
	}
}

func TestLLMFallback(t *testing.T) {
	for _, tc := range []struct {
		name    string
		replies []llmtest.Reply
		reason  string
	}{
		{"invalid output", []llmtest.Reply{llmtest.Text("这是病历：胸闷3天"), llmtest.Text("still not JSON")}, agents.ReasonInvalidOutput},
		{"fails validation", []llmtest.Reply{reply(st{"text": "胸闷3天", "sources": []string{}}), reply(st{"text": "", "sources": []string{"u2"}})}, agents.ReasonInvalidOutput},
		{"unknown field", []llmtest.Reply{llmtest.JSON(map[string]any{"statements": []st{}, "note": "x"}), llmtest.JSON(map[string]any{"items": []st{}})}, agents.ReasonInvalidOutput},
		{"server error", []llmtest.Reply{llmtest.Error(503, "overloaded")}, agents.ReasonUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, _ := llmEngine(t, llmtest.WithReplies(tc.replies...))
			var stages []string
			d, err := e.Draft(context.Background(), scribe.Input{Type: clinic.NoteOutpatient, Utterances: chestDialogue()},
				scribe.WithProgress(func(p scribe.Progress) { stages = append(stages, p.Stage) }))
			if err != nil {
				t.Fatal(err)
			}
			if !d.Outcome.Fallback || d.Outcome.Reason != tc.reason || !d.Note.Fallback || d.Note.FallbackReason != tc.reason || d.Note.Author != scribe.AuthorEmbedded {
				t.Fatalf("outcome %+v note fallback %v %q author %s", d.Outcome, d.Note.Fallback, d.Note.FallbackReason, d.Note.Author)
			}
			if got := section(t, d.Note, scribe.SecChiefComplaint); got != "胸闷3天" {
				t.Errorf("fallback chief complaint = %q", got)
			}
			if !strings.Contains(strings.Join(stages, ","), "fallback") {
				t.Errorf("stages = %v", stages)
			}
		})
	}
}

func TestLLMDraftKeepsConflicts(t *testing.T) {
	e, _ := llmEngine(t, llmtest.WithHandler(func(r llmtest.Request) llmtest.Reply {
		if sectionOf(r) == scribe.SecAllergies {
			return reply(st{"text": "青霉素过敏。", "sources": []string{"u4"}})
		}
		return reply()
	}))
	d, err := e.Draft(context.Background(), scribe.Input{Type: clinic.NoteOutpatient, Utterances: dialogue(
		"doctor:有药物过敏吗？", "patient:没有过敏。", "doctor:最近咳嗽吗？", "patient:咳嗽两天了。我对青霉素过敏，刚想起来。")})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := d.Note.Section(scribe.SecAllergies)
	if len(s.Statements) != 2 || !scribe.IsConflict(s.Statements[1]) {
		t.Errorf("allergies = %+v, want the model's statement and a conflict marker", s.Statements)
	}
}
