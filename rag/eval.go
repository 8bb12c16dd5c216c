package rag

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/yizhu-health/yizhu/clinic"
)

// Question is one item of a retrieval question set. Gold lists the
// passages that answer it by document ID and heading (any element of a
// chunk's heading path; "" = any chunk of the document), so the set
// survives re-chunking.
type Question struct {
	ID       string `json:"id"`
	Lang     string `json:"lang"` // "zh" or "en"
	Question string `json:"q"`
	Gold     []Gold `json:"gold"`
}

// Gold is one acceptable answer location.
type Gold struct {
	Doc     string `json:"doc"`
	Heading string `json:"heading,omitempty"`
}

// Matches reports whether hit answers the question.
func (q Question) Matches(h Hit) bool {
	for _, g := range q.Gold {
		if h.DocumentID != g.Doc {
			continue
		}
		if g.Heading == "" || slices.Contains(h.HeadingPath, g.Heading) {
			return true
		}
	}
	return false
}

// Question set bounds.
const (
	maxQuestions     = 100000
	maxQuestionBytes = 64 << 10
)

// LoadQuestions reads a JSONL question set (one Question per line, blank
// lines ignored). Unknown fields, a question without text or gold, and a
// duplicate ID are invalid, reported with the line number.
func LoadQuestions(r io.Reader) ([]Question, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxQuestionBytes)
	var out []Question
	seen := make(map[string]bool)
	for line := 1; sc.Scan(); line++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		if len(out) >= maxQuestions {
			return nil, clinic.NewError(clinic.CodeTooLarge, "questions",
				fmt.Sprintf("more than %d questions", maxQuestions), fmt.Sprintf("问题超过 %d 条", maxQuestions))
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		var q Question
		if err := dec.Decode(&q); err != nil {
			return nil, lineError(line, "bad JSON: "+err.Error(), "JSON 格式错误："+err.Error())
		}
		if dec.More() {
			return nil, lineError(line, "more than one JSON value", "一行包含多个 JSON 值")
		}
		switch {
		case q.ID == "":
			return nil, lineError(line, "id is required", "缺少 id")
		case seen[q.ID]:
			return nil, lineError(line, "duplicate id "+q.ID, "id 重复："+q.ID)
		case strings.TrimSpace(q.Question) == "":
			return nil, lineError(line, "q is required", "缺少问题文本 q")
		case len(q.Gold) == 0:
			return nil, lineError(line, "gold is required", "缺少标准答案 gold")
		}
		for _, g := range q.Gold {
			if g.Doc == "" {
				return nil, lineError(line, "gold.doc is required", "gold 缺少 doc")
			}
		}
		seen[q.ID] = true
		out = append(out, q)
	}
	if err := sc.Err(); err != nil {
		return nil, clinic.Wrap(err, clinic.CodeInvalid, "cannot read the question set", "无法读取问题集")
	}
	return out, nil
}

func lineError(line int, en, zh string) error {
	return clinic.NewError(clinic.CodeInvalid, fmt.Sprintf("line %d", line),
		fmt.Sprintf("line %d: %s", line, en), fmt.Sprintf("第 %d 行：%s", line, zh))
}

// ModeScore is the retrieval quality of one mode.
type ModeScore struct {
	Mode      Mode    `json:"mode"`
	Questions int     `json:"questions"`
	RecallAt5 float64 `json:"recall_at_5"` // share of questions with a gold passage in the top 5
	MRR       float64 `json:"mrr"`         // mean of 1/rank of the first gold passage in the top 10
	// ByLang breaks the scores down by question language.
	ByLang map[string]LangScore `json:"by_lang,omitempty"`
	// Misses are the IDs of questions with no gold passage in the top 5.
	Misses []string `json:"misses,omitempty"`
}

// LangScore is the retrieval quality on the questions of one language.
type LangScore struct {
	Questions int     `json:"questions"`
	RecallAt5 float64 `json:"recall_at_5"`
	MRR       float64 `json:"mrr"`
}

// EvalReport holds one score per mode, in the order of [Modes].
type EvalReport struct {
	Collection string      `json:"collection"`
	Embedder   string      `json:"embedder"`
	Scores     []ModeScore `json:"scores"`
}

// Score returns the score of mode m.
func (r EvalReport) Score(m Mode) (ModeScore, bool) {
	for _, s := range r.Scores {
		if s.Mode == m {
			return s, true
		}
	}
	return ModeScore{}, false
}

// Evaluate runs every question in each of the three modes against
// collection ("" = all) and returns recall@5 and MRR@10 per mode.
func Evaluate(ctx context.Context, r *Retriever, collection string, qs []Question) (EvalReport, error) {
	rep := EvalReport{Collection: collection, Embedder: r.embedder.Name()}
	for _, m := range Modes {
		s := ModeScore{Mode: m, Questions: len(qs), ByLang: make(map[string]LangScore)}
		var hits5, rr float64
		for _, q := range qs {
			ls := s.ByLang[q.Lang]
			ls.Questions++
			hits, err := r.Search(ctx, Query{Text: q.Question, Collection: collection, K: 10, Mode: m})
			if err != nil {
				return EvalReport{}, fmt.Errorf("rag.Evaluate(%s, %s): %w", m, q.ID, err)
			}
			rank := 0
			for i, h := range hits {
				if q.Matches(h) {
					rank = i + 1
					break
				}
			}
			if rank > 0 {
				rr += 1 / float64(rank)
				ls.MRR += 1 / float64(rank)
			}
			if rank > 0 && rank <= 5 {
				hits5++
				ls.RecallAt5++
			} else {
				s.Misses = append(s.Misses, q.ID)
			}
			s.ByLang[q.Lang] = ls
		}
		if len(qs) > 0 {
			s.RecallAt5 = hits5 / float64(len(qs))
			s.MRR = rr / float64(len(qs))
		}
		for lang, ls := range s.ByLang {
			ls.RecallAt5 /= float64(ls.Questions)
			ls.MRR /= float64(ls.Questions)
			s.ByLang[lang] = ls
		}
		rep.Scores = append(rep.Scores, s)
	}
	return rep, nil
}
