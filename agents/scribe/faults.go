package scribe

import (
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/yizhu-health/yizhu/clinic"
)

// Faults that InjectFault writes into a statement, to measure whether the
// verifier catches them.
const (
	FaultNumber   = "number"   // a number changed to one the sources do not have
	FaultNegation = "negation" // a finding's presence flipped
	FaultDrug     = "drug"     // a drug the sources never mention added
)

// InjectFault returns st with one fault of the given kind written in, or
// false when st offers no place for it (no number to change, no finding
// to flip). The sources are left as they are, so a sound verifier must
// mark the result unsupported. Used by tests and the eval suite.
func InjectFault(v *Vocabulary, st clinic.Statement, src Sources, fault string, pick int) (clinic.Statement, bool) {
	out := st
	out.Unsupported, out.Reason = false, ""
	zh := strings.IndexFunc(st.Text, func(r rune) bool { return unicode.Is(unicode.Han, r) }) >= 0
	items, _ := src.cited(st)
	var srcText strings.Builder
	for _, it := range items {
		srcText.WriteString(it.Text)
		srcText.WriteString("\n")
	}
	switch fault {
	case FaultNumber:
		rs := []rune(st.Text)
		have := map[float64]bool{}
		for _, n := range numbers(srcText.String()) {
			have[n.val] = true
		}
		for i := 0; i < len(rs); i++ {
			if rs[i] > 127 || !unicode.IsDigit(rs[i]) {
				continue
			}
			j := i
			for j < len(rs) && rs[j] < 128 && unicode.IsDigit(rs[j]) {
				j++
			}
			n, _ := strconv.Atoi(string(rs[i:j]))
			for d := 1 + pick%5; d < 1000; d++ {
				if !have[float64(n+d)] {
					out.Text = string(rs[:i]) + strconv.Itoa(n+d) + string(rs[j:])
					return out, true
				}
			}
		}
		return st, false
	case FaultNegation:
		rd := v.read(st.Text)
		for _, m := range rd.mentions {
			k := v.terms[m.term].Kind
			if m.question || (k != KindSymptom && k != KindCondition && k != KindDrug && k != KindHabit) {
				continue
			}
			rs := []rune(st.Text)
			if m.negated {
				// drop the nearest negation cue before the finding
				pre := string(rs[:m.start])
				best, cut := -1, ""
				for _, c := range append(append(slices.Clone(negStrongZH), negWeakZH...), "Denies", "denies", "No ", "no ", "not ", "Not ") {
					if i := strings.LastIndex(pre, c); i > best {
						best, cut = i, c
					}
				}
				if best < 0 {
					continue
				}
				repl := ""
				switch cut {
				case "否认", "无", "没有":
					repl = "有"
				case "Denies":
					repl = "Reports"
				case "denies":
					repl = "reports"
				}
				out.Text = pre[:best] + repl + pre[best+len(cut):] + string(rs[m.start:])
				return out, true
			}
			if zh {
				out.Text = string(rs[:m.start]) + "无" + string(rs[m.start:])
			} else {
				out.Text = string(rs[:m.start]) + "no " + string(rs[m.start:])
			}
			return out, true
		}
		return st, false
	case FaultDrug:
		present := map[int]bool{}
		for _, m := range v.read(srcText.String()).mentions {
			present[m.term] = true
		}
		var drugs []int
		for i, t := range v.terms {
			if t.Kind == KindDrug && !present[i] && t.NameEN != "" && !strings.HasPrefix(t.Code, "triage.") {
				drugs = append(drugs, i)
			}
		}
		if len(drugs) == 0 {
			return st, false
		}
		d := v.terms[drugs[pick%len(drugs)]]
		text := strings.TrimSpace(st.Text)
		if zh {
			text = strings.TrimRight(text, "。") + "，服用" + d.NameZH + "。"
		} else {
			text = strings.TrimRight(text, ".") + "; takes " + d.NameEN + "."
		}
		out.Text = text
		return out, true
	}
	return st, false
}

// StatementProblem checks one statement against src as Verify does and
// returns the problem kind, "" when the statement is supported.
func (e *Engine) StatementProblem(st clinic.Statement, src Sources) string {
	if IsConflict(st) {
		return ProblemConflict
	}
	k, _, _ := checkStatement(e.vocab, e.tmpl, st, src)
	return k
}

// Vocabulary returns the engine's vocabulary.
func (e *Engine) Vocabulary() *Vocabulary { return e.vocab }

// Read returns the findings of one text as the engine reads them, for
// extraction evals: each term with its polarity and whether it was only
// asked about.
func (e *Engine) Read(text string) []Finding {
	rd := e.vocab.read(text)
	out := make([]Finding, 0, len(rd.mentions))
	for _, m := range rd.mentions {
		out = append(out, Finding{Term: e.vocab.terms[m.term], Present: !m.negated, Question: m.question, Duration: m.duration})
	}
	return out
}

// Finding is one term found in a dialogue with its polarity.
type Finding struct {
	Term     Term   `json:"term"`
	Present  bool   `json:"present"`
	Question bool   `json:"question,omitempty"` // only asked about, not answered
	Duration string `json:"duration,omitempty"`
	Doctor   bool   `json:"doctor,omitempty"` // stated by the clinician
	// Family is the relative the finding is said of ("父亲有冠心病"), ""
	// for the patient: family history in a record, or the person the
	// consultation is about when someone asks for a relative.
	Family string `json:"family,omitempty"`
	// Sources are the indexes of the utterances that support it.
	Sources []int `json:"sources"`
}

// Findings reads a dialogue as Draft does — each turn, with a clinician's
// yes/no questions resolved by the patient's answers — and returns every
// finding (and, with Question set, findings only asked about).
func (e *Engine) Findings(us []clinic.Utterance) []Finding {
	turns := make([]turn, len(us))
	for i, u := range us {
		turns[i] = turn{src: clinic.Source{Kind: clinic.SourceUtterance, ID: u.ID}, speaker: u.Speaker, text: u.Text}
	}
	fs := e.vocab.readFacts(turns)
	var out []Finding
	for _, f := range fs.findings {
		fd := Finding{Term: e.vocab.terms[f.term], Present: f.present, Duration: f.duration, Doctor: f.doctor, Family: f.family, Sources: f.srcs}
		if f.doctor && !f.inferred && fs.turns[f.srcs[0]].speaker != "" {
			// A clinician naming a condition outside a statement about
			// this patient ("this drug is used for myocarditis", "if you
			// get chest pain …") asserts nothing about the patient.
			t := &fs.turns[f.srcs[0]]
			m := t.rd.mentions[f.mention]
			fd.Question = !doctorAsserts(t, m)
			if fd.Question && m.measured {
				// "紧张时心率会增快的": a value described in general
				// talk names no finding at all.
				continue
			}
		}
		if !f.doctor && !f.inferred && fs.turns[f.srcs[0]].patientSide() {
			t := &fs.turns[f.srcs[0]]
			fd.Question = patientHedged(t, t.rd.mentions[f.mention])
		}
		out = append(out, fd)
	}
	for i := range fs.turns {
		t := &fs.turns[i]
		for _, m := range t.rd.mentions {
			if !m.question {
				continue
			}
			fd := Finding{Term: e.vocab.terms[m.term], Question: true, Doctor: t.clinician(), Sources: []int{i}}
			if t.patientSide() && patientTopic(e.vocab, t, m) {
				// "房颤能吃辅酶Q10吗": the patient has what they ask about.
				fd.Question, fd.Present = false, true
			}
			out = append(out, fd)
		}
	}
	return out
}
