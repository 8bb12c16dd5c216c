package rag_test

import (
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/eval"
	"github.com/yizhu-health/yizhu/eval/evaltest"
	ragsuite "github.com/yizhu-health/yizhu/eval/suites/rag"
	"github.com/yizhu-health/yizhu/rag"
)

// TestSuiteOnStarterCorpus runs the suite as `yizhu eval --suite rag` does
// with an empty data directory: the built-in corpus and questions only.
func TestSuiteOnStarterCorpus(t *testing.T) {
	r := evaltest.Run(t, ragsuite.New(ragsuite.Config{}), t.TempDir(), eval.Deps{})
	m := r.Metrics
	if m["n_questions"] < 150 || m["n_documents"] < 40 || r.N != int(m["n_questions"]) {
		t.Fatalf("set too small: %v questions, %v documents, N %d", m["n_questions"], m["n_documents"], r.N)
	}
	for _, mode := range []string{"builtin_vector", "lexical", "hybrid"} {
		for _, k := range []string{".recall_at_5", ".mrr", ".zh.recall_at_5", ".zh.mrr", ".en.recall_at_5", ".en.mrr"} {
			if _, ok := m[mode+k]; !ok {
				t.Errorf("metric %s%s missing", mode, k)
			}
		}
		// The overall score is the question-weighted mean of the languages.
		var n, sum float64
		for _, row := range r.PerClass.Rows {
			n += row.Values[0]
		}
		col := map[string]int{"builtin_vector": 1, "lexical": 3, "hybrid": 5}[mode]
		for _, row := range r.PerClass.Rows {
			sum += row.Values[0] * row.Values[col]
		}
		if math.Abs(sum/n-m[mode+".recall_at_5"]) > 1e-9 {
			t.Errorf("%s: per-language recall %.4f does not average to %.4f", mode, sum/n, m[mode+".recall_at_5"])
		}
		t.Logf("%-14s recall@5 %.3f  MRR %.3f", mode, m[mode+".recall_at_5"], m[mode+".mrr"])
	}
	if m["hybrid.recall_at_5"] < 0.9 {
		t.Errorf("hybrid recall@5 = %.3f, want ≥ 0.9", m["hybrid.recall_at_5"])
	}
	if len(r.PerRecord.Rows) != int(m["n_documents"]) {
		t.Errorf("per-document table has %d rows for %v documents", len(r.PerRecord.Rows), m["n_documents"])
	}
	if r.Latency == nil || r.Latency.N != int(m["n_questions"]) {
		t.Errorf("latency %+v, want one sample per question", r.Latency)
	}
	for k := range m {
		if strings.HasPrefix(k, "data.") {
			t.Errorf("metric %s without a data questions file", k)
		}
	}
}

// A small corpus whose scores can be worked out by hand: q1 repeats d1's
// sentence, so every mode ranks d1 first; q2 shares no character or word
// with d2, so BM25 cannot find it.
func TestSuiteHandScored(t *testing.T) {
	docs := fstest.MapFS{}
	texts := []string{
		"入院记录应当于患者入院后二十四小时内完成。",
		"Tachycardia above 180 beats per minute is reported at once.",
		"门诊病历由接诊医师在就诊当时书写。",
		"手术同意书须由患者本人或授权委托人签署。",
		"会诊申请单应写明会诊目的与病情摘要。",
	}
	for i, tx := range texts {
		docs[filepath.Join("d"+string(rune('1'+i))+".md")] = &fstest.MapFile{Data: []byte("# 第" + string(rune('1'+i)) + "篇\n\n" + tx + "\n")}
	}
	qs := []rag.Question{
		{ID: "q1", Lang: "zh", Question: "入院记录应当于患者入院后二十四小时内完成", Gold: []rag.Gold{{Doc: "d1"}}},
		{ID: "q2", Lang: "zh", Question: "肺结节", Gold: []rag.Gold{{Doc: "d2"}}},
	}
	r := evaltest.Run(t, ragsuite.New(ragsuite.Config{Questions: qs, Corpus: docs}), t.TempDir(), eval.Deps{})
	m := r.Metrics
	if m["lexical.recall_at_5"] != 0.5 || m["lexical.mrr"] != 0.5 {
		t.Errorf("lexical = %v / %v, want 0.5 / 0.5", m["lexical.recall_at_5"], m["lexical.mrr"])
	}
	for _, mode := range []string{"builtin_vector", "hybrid"} {
		if m[mode+".mrr"] < 0.5 || m[mode+".recall_at_5"] < 0.5 {
			t.Errorf("%s: q1 is not ranked first (%v)", mode, m)
		}
	}
	if m["n_documents"] != 5 || m["n_chunks"] != 5 || m["n_questions"] != 2 {
		t.Errorf("counts %v", m)
	}
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestSuiteDataQuestions adds questions and a document through the data
// directory; they are scored under data. and leave the built-in scores
// unchanged.
func TestSuiteDataQuestions(t *testing.T) {
	base := evaltest.Run(t, ragsuite.New(ragsuite.Config{}), t.TempDir(), eval.Deps{})

	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "rag", "docs", "local-sepsis.md"), `---
title: 本院脓毒症集束化治疗时限
source: 某院急诊科脓毒症处置流程（2025）
tags: [急诊]
---
# 本院脓毒症集束化治疗时限

## 抗菌药物
疑似脓毒症患者应在识别后1小时内完成血培养并开始经验性抗菌药物治疗。
`)
	writeFile(t, filepath.Join(dir, "rag", "questions.jsonl"),
		`{"id":"x1","lang":"zh","q":"脓毒症识别后多久开始抗菌药物？","gold":[{"doc":"local-sepsis","heading":"抗菌药物"}]}`+"\n"+
			`{"id":"x2","lang":"en","q":"STEMI ST elevation threshold in V2-V3 for women","gold":[{"doc":"ecg-stemi-english"},{"doc":"ecg-stemi-criteria"}]}`+"\n")
	r := evaltest.Run(t, ragsuite.New(ragsuite.Config{}), dir, eval.Deps{})
	m := r.Metrics
	if m["data.n_questions"] != 2 || m["data.n_documents"] != 1 || r.N != int(m["n_questions"])+2 {
		t.Fatalf("data counts: %v, N %d", m, r.N)
	}
	if m["data.hybrid.recall_at_5"] != 1 || m["data.lexical.recall_at_5"] != 1 {
		t.Errorf("data scores: hybrid %v lexical %v, want 1", m["data.hybrid.recall_at_5"], m["data.lexical.recall_at_5"])
	}
	for k, v := range base.Metrics {
		if m[k] != v {
			t.Errorf("built-in metric %s changed with data questions: %v → %v", k, v, m[k])
		}
	}
	if r.Config["data_questions"] != "rag/questions.jsonl" || r.Config["data_docs"] != "rag/docs" {
		t.Errorf("config %v", r.Config)
	}
}

func TestSuiteBadData(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		code  clinic.Code
		want  string
	}{
		{"bad questions", map[string]string{"rag/questions.jsonl": `{"id":"a","q":"x"}`}, clinic.CodeInvalid, "line 1"},
		{"empty questions", map[string]string{"rag/questions.jsonl": "\n\n"}, clinic.CodeInvalid, "no questions"},
		{"doc replaces a starter note", map[string]string{
			"rag/questions.jsonl":                `{"id":"a","q":"x","gold":[{"doc":"emr-general-principles"}]}`,
			"rag/docs/emr-general-principles.md": "# 改写\n\n内容。",
		}, clinic.CodeInvalid, "emr-general-principles.md"},
		{"bad doc", map[string]string{
			"rag/questions.jsonl": `{"id":"a","q":"x","gold":[{"doc":"bin"}]}`,
			"rag/docs/bin.txt":    "\x00\x01\x02",
		}, clinic.CodeInvalid, "bin.txt"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for p, d := range tc.files {
				writeFile(t, filepath.Join(dir, filepath.FromSlash(p)), d)
			}
			_, err := ragsuite.New(ragsuite.Config{}).Run(t.Context(), eval.Env{DataDir: dir, OutDir: t.TempDir(), Logger: discard()})
			if clinic.ErrorCode(err) != tc.code || err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %s containing %q", err, tc.code, tc.want)
			}
		})
	}
	t.Run("missing data dir", func(t *testing.T) {
		_, err := ragsuite.New(ragsuite.Config{}).Run(t.Context(), eval.Env{DataDir: filepath.Join(t.TempDir(), "nope"), Logger: discard()})
		if clinic.ErrorCode(err) != clinic.CodeNotFound {
			t.Fatalf("err = %v, want not_found", err)
		}
	})
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }
