package scribe_test

import (
	"context"
	"testing"
	"time"

	"github.com/yizhu-health/yizhu/agents/scribe"
	"github.com/yizhu-health/yizhu/clinic"
)

// fortyTurns is a 40-turn outpatient dialogue: the chest-pain consultation
// followed by further questions and answers.
func fortyTurns() []clinic.Utterance {
	lines := []string{
		"doctor:您好，哪里不舒服？", "patient:医生，我胸闷三天了，还有点心慌。",
		"doctor:有没有胸痛？发烧吗？", "patient:没有。",
		"doctor:以前有高血压、糖尿病吗？", "patient:有高血压五年了，一直吃氨氯地平。没有糖尿病。",
		"doctor:有药物过敏吗？", "patient:没有过敏。",
		"doctor:抽烟喝酒吗？", "patient:抽烟二十年了，每天一包，不喝酒。",
		"doctor:家里人有心脏病吗？", "patient:我父亲有冠心病。",
		"doctor:胸闷一般什么时候出现？", "patient:爬楼梯的时候明显，休息几分钟就好了。",
		"doctor:有没有出汗、恶心？", "patient:有点出汗，不恶心。",
		"doctor:晚上能平躺吗？", "patient:能，睡觉还可以。",
		"doctor:腿肿不肿？", "patient:不肿。",
		"doctor:咳嗽吗？", "patient:偶尔咳嗽，没有痰。",
		"doctor:头晕吗？", "patient:有时候头晕。",
		"doctor:最近血压控制得怎么样？", "patient:在家量大概150/90左右。",
		"doctor:吃过什么药缓解吗？", "patient:吃过速效救心丸，好像有用。",
		"doctor:之前做过心电图吗？", "patient:去年体检做过，说是正常。",
		"doctor:好的，我给你听诊一下，心率88次/分，律齐，双肺呼吸音清，双下肢无水肿。", "patient:好的。",
		"doctor:血压测一下，150/95mmHg。", "patient:有点高。",
		"doctor:考虑是冠心病心绞痛，建议做个心电图和心脏彩超，查心肌酶。", "patient:需要住院吗？",
		"doctor:先做检查，口服阿司匹林，戒烟，注意休息。", "patient:好的。",
		"doctor:如果胸痛持续不缓解马上来急诊。", "patient:明白了，谢谢医生。",
	}
	return dialogue(lines...)
}

// BenchmarkDraft40Turns drafts an outpatient record from a 40-turn
// dialogue with the embedded engine (target ≤ 50 ms per draft).
func BenchmarkDraft40Turns(b *testing.B) {
	e := newEngine(b, scribe.Config{})
	us := fortyTurns()
	if len(us) != 40 {
		b.Fatalf("%d turns", len(us))
	}
	in := scribe.Input{Type: clinic.NoteOutpatient, Utterances: us,
		Data: []scribe.DataItem{{ID: "ecg1", Kind: scribe.DataECG, Name: "心电图", Text: "窦性心律，心率88次/分，V4-V6 ST段压低0.1mV。"}}}
	ctx := context.Background()
	var stmts int
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		d, err := e.Draft(ctx, in)
		if err != nil {
			b.Fatal(err)
		}
		stmts = 0
		for _, s := range d.Note.Sections {
			stmts += len(s.Statements)
		}
	}
	b.ReportMetric(float64(time.Since(start).Milliseconds())/float64(b.N), "ms/draft")
	b.ReportMetric(float64(stmts), "statements")
}

func TestFortyTurnDraftIsSupported(t *testing.T) {
	e := newEngine(t, scribe.Config{})
	d, err := e.Draft(context.Background(), scribe.Input{Type: clinic.NoteOutpatient, Utterances: fortyTurns()})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range d.Problems {
		t.Errorf("problem: %+v", p)
	}
	fam := section(t, d.Note, scribe.SecFamilyHistory)
	per := section(t, d.Note, scribe.SecPersonalHistory)
	if fam != "父亲有冠心病。" || per == "" {
		t.Errorf("family %q personal %q", fam, per)
	}
	t.Log(scribe.Markdown(d.Note))
}
