package triage

import (
	"bufio"
	"bytes"
	"context"
	"embed"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/yizhu-health/yizhu/clinic"
)

// Loader bounds.
const (
	maxCSVRows      = 2_000_000
	maxCSVField     = 64 << 10
	maxVignettes    = 100_000
	maxVignetteLine = 64 << 10
)

// ReadRoutingCSV reads historical registrations from a CSV with a header
// row. The department column is "department" (or "dept"); the text is the
// "text" column, or "title" and "ask" joined (the format of
// ../shared/data/triage/cn-internal-medicine/dev.csv). Other columns are
// ignored. Rows with an empty department or text are skipped.
func ReadRoutingCSV(r io.Reader) ([]Row, error) {
	br := bufio.NewReader(r)
	if b, err := br.Peek(3); err == nil && bytes.Equal(b, []byte{0xEF, 0xBB, 0xBF}) {
		_, _ = br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		return nil, clinic.Wrap(err, clinic.CodeInvalid, "cannot read the CSV header", "无法读取CSV表头")
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.ToLower(strings.TrimSpace(h))] = i
	}
	dept, ok := col["department"]
	if !ok {
		if dept, ok = col["dept"]; !ok {
			return nil, clinic.NewError(clinic.CodeInvalid, "department", "the CSV has no department column", "CSV缺少department列")
		}
	}
	textCols := []int{}
	if i, ok := col["text"]; ok {
		textCols = append(textCols, i)
	} else {
		for _, name := range []string{"title", "ask", "question"} {
			if i, ok := col[name]; ok {
				textCols = append(textCols, i)
			}
		}
	}
	if len(textCols) == 0 {
		return nil, clinic.NewError(clinic.CodeInvalid, "text", "the CSV has no text, title or ask column", "CSV缺少text/title/ask列")
	}
	var rows []Row
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, clinic.Wrap(err, clinic.CodeInvalid, fmt.Sprintf("CSV line %d is malformed", line), fmt.Sprintf("CSV第%d行格式错误", line))
		}
		if len(rows) == maxCSVRows {
			return nil, clinic.Errorf(clinic.CodeTooLarge, "more than %d CSV rows", maxCSVRows)
		}
		get := func(i int) string {
			if i >= len(rec) {
				return ""
			}
			s := strings.TrimSpace(rec[i])
			if len(s) > maxCSVField {
				s = s[:maxCSVField]
			}
			return s
		}
		var parts []string
		for _, i := range textCols {
			if s := get(i); s != "" {
				parts = append(parts, s)
			}
		}
		row := Row{Department: get(dept), Text: strings.Join(parts, "。")}
		if row.Department == "" || row.Text == "" {
			continue
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// RoutingStats counts hits for one department label.
type RoutingStats struct {
	N    int `json:"n"`
	Top1 int `json:"top1"`
	Top3 int `json:"top3"`
}

// RoutingResult is department-routing accuracy over a labelled set.
type RoutingResult struct {
	N    int     `json:"n"`
	Top1 float64 `json:"top1"` // fraction of rows whose label is ranked first
	Top3 float64 `json:"top3"` // … within the first three
	// Unmapped counts rows whose label is not a catalog department (they
	// count as misses).
	Unmapped int                     `json:"unmapped"`
	ByLabel  map[string]RoutingStats `json:"by_label"`
}

func (r *RoutingResult) add(label string, rank int) {
	s := r.ByLabel[label]
	s.N++
	r.N++
	if rank == 0 {
		s.Top1++
		r.Top1++
	}
	if rank >= 0 && rank < 3 {
		s.Top3++
		r.Top3++
	}
	r.ByLabel[label] = s
}

func (r *RoutingResult) finish() {
	if r.N > 0 {
		r.Top1 /= float64(r.N)
		r.Top3 /= float64(r.N)
	}
}

// RoutingOptions tune [EvalRouting].
type RoutingOptions struct {
	// LabelsOnly ranks only the departments that occur as labels in the
	// rows (e.g. the 11 internal-medicine clinics of dev.csv) instead of
	// the whole catalog.
	LabelsOnly bool
}

// Rank returns the engine's department ranking for one text without
// follow-up questions: the KB posterior (blended with the router when
// configured) under the patient's age and sex, outpatient departments only.
func (e *Engine) Rank(text string, age *int, sex clinic.Sex) []DepartmentChoice {
	st := State{Version: stateVersion, Age: age, Sex: sex}
	e.addText(&st, text)
	if st.Text == "" {
		st.Text = text
	}
	_, ev := e.patient(&st)
	return e.choices(e.posterior(&st, ev, clinic.AcuityIV), ev, e.cat.Len())
}

// EvalRouting measures the engine's one-shot department ranking (no
// questions) against labelled rows. Labels are matched to the catalog by
// code, name or alias.
func EvalRouting(ctx context.Context, e *Engine, rows []Row, opt RoutingOptions) (RoutingResult, error) {
	res := RoutingResult{ByLabel: map[string]RoutingStats{}}
	var allowed map[string]bool
	if opt.LabelsOnly {
		allowed = map[string]bool{}
		for _, r := range rows {
			if d, ok := e.cat.Lookup(r.Department); ok {
				allowed[d.Code] = true
			}
		}
	}
	for i, r := range rows {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return RoutingResult{}, fmt.Errorf("triage.EvalRouting: %w", err)
			}
		}
		want, ok := e.cat.Lookup(r.Department)
		if !ok {
			res.Unmapped++
			res.add(r.Department, -1)
			continue
		}
		rank, pos := -1, 0
		for _, c := range e.Rank(r.Text, nil, "") {
			if allowed != nil && !allowed[c.Code] {
				continue
			}
			if c.Code == want.Code {
				rank = pos
				break
			}
			pos++
		}
		res.add(r.Department, rank)
	}
	res.finish()
	return res, nil
}

// CVConfig configures [CrossValidate].
type CVConfig struct {
	Folds  int    // default 5
	Seed   uint64 // shuffles the rows (PCG); the same seed gives the same folds
	Router RouterConfig
	// Engine, when set, also scores the KB blended with each fold's router
	// (labels only), reported as Blended.
	Engine       *Engine
	RouterWeight float64
}

// CVResult is the cross-validated accuracy of the trainable router.
type CVResult struct {
	Folds   int            `json:"folds"`
	Router  RoutingResult  `json:"router"`
	Blended *RoutingResult `json:"blended,omitempty"`
}

// CrossValidate fits the router on k−1 folds and scores it on the held-out
// fold, k times, and pools the results.
func CrossValidate(ctx context.Context, rows []Row, cfg CVConfig) (CVResult, error) {
	k := cfg.Folds
	if k == 0 {
		k = 5
	}
	if k < 2 || k > len(rows) {
		return CVResult{}, clinic.Errorf(clinic.CodeInvalid, "%d folds for %d rows", k, len(rows))
	}
	perm := rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)).Perm(len(rows))
	out := CVResult{Folds: k, Router: RoutingResult{ByLabel: map[string]RoutingStats{}}}
	var blended *RoutingResult
	if cfg.Engine != nil {
		blended = &RoutingResult{ByLabel: map[string]RoutingStats{}}
	}
	for f := range k {
		if err := ctx.Err(); err != nil {
			return CVResult{}, fmt.Errorf("triage.CrossValidate: %w", err)
		}
		var train, test []Row
		for i, j := range perm {
			if i%k == f {
				test = append(test, rows[j])
			} else {
				train = append(train, rows[j])
			}
		}
		r, err := cfg.Router.Train(train)
		if err != nil {
			return CVResult{}, fmt.Errorf("triage.CrossValidate: fold %d: %w", f, err)
		}
		for _, row := range test {
			rank := -1
			for i, ls := range r.Predict(row.Text) {
				if ls.Label == row.Department {
					rank = i
					break
				}
			}
			out.Router.add(row.Department, rank)
		}
		if blended != nil {
			e2 := *cfg.Engine
			e2.router, e2.routerIx, e2.w = r, nil, cfg.RouterWeight
			if e2.w == 0 {
				e2.w = 0.5
			}
			for _, l := range r.labels {
				d, ok := e2.cat.Lookup(l)
				if !ok {
					return CVResult{}, clinic.Errorf(clinic.CodeInvalid, "label %q is not a catalog department", l)
				}
				e2.routerIx = append(e2.routerIx, e2.cat.index(d.Code))
			}
			br, err := EvalRouting(ctx, &e2, test, RoutingOptions{LabelsOnly: true})
			if err != nil {
				return CVResult{}, err
			}
			blended.N += br.N
			blended.Top1 += br.Top1 * float64(br.N)
			blended.Top3 += br.Top3 * float64(br.N)
			blended.Unmapped += br.Unmapped
			for l, s := range br.ByLabel {
				t := blended.ByLabel[l]
				t.N, t.Top1, t.Top3 = t.N+s.N, t.Top1+s.Top1, t.Top3+s.Top3
				blended.ByLabel[l] = t
			}
		}
	}
	out.Router.finish()
	if blended != nil {
		blended.finish()
		out.Blended = blended
	}
	return out, nil
}

// Vignette is one labelled triage case (the Yizhu triage JSONL format).
type Vignette struct {
	ID     string     `json:"id" validate:"required,max=64"`
	Lang   string     `json:"lang,omitempty" validate:"omitempty,oneof=zh en"`
	Text   string     `json:"text" validate:"required,max=4000"`
	Age    *int       `json:"age,omitempty" validate:"omitempty,min=0,max=150"`
	Sex    clinic.Sex `json:"sex,omitempty" validate:"omitempty,oneof=M F U"`
	Vitals Vitals     `json:"vitals,omitzero"`
	// Department is the expected department code (optional).
	Department string `json:"department,omitempty" validate:"max=32"`
	// Acuity is the gold level (1–4).
	Acuity clinic.Acuity `json:"acuity" validate:"min=1,max=4"`
	// RedFlag is the expected rule-ID prefix ("RF-STROKE", "VS-SPO2"), or
	// "" when no red flag should fire.
	RedFlag string `json:"red_flag,omitempty" validate:"max=64"`
}

//go:embed evaldata/*.jsonl
var evalFS embed.FS

// DefaultVignettes returns the built-in red-flag vignette set.
func DefaultVignettes() []Vignette {
	f, err := evalFS.Open("evaldata/redflag_vignettes.jsonl")
	if err != nil {
		panic("triage: embedded vignettes: " + err.Error())
	}
	defer f.Close()
	vs, err := ReadVignettes(f)
	if err != nil {
		panic("triage: embedded vignettes: " + err.Error())
	}
	return vs
}

// ReadVignettes reads JSONL vignettes: one object per line, unknown fields
// and invalid values are errors naming the line; blank lines are skipped.
func ReadVignettes(r io.Reader) ([]Vignette, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxVignetteLine)
	v := newValidator()
	var out []Vignette
	ids := map[string]bool{}
	for line := 1; sc.Scan(); line++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		if len(out) == maxVignettes {
			return nil, clinic.Errorf(clinic.CodeTooLarge, "more than %d vignettes", maxVignettes)
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		var vg Vignette
		if err := dec.Decode(&vg); err != nil {
			return nil, clinic.Wrap(err, clinic.CodeInvalid, fmt.Sprintf("vignette line %d is malformed", line), fmt.Sprintf("第%d行格式错误", line))
		}
		if err := v.Struct(vg); err != nil {
			return nil, clinic.Wrap(err, clinic.CodeInvalid, fmt.Sprintf("vignette line %d is invalid", line), fmt.Sprintf("第%d行校验失败", line))
		}
		if ids[vg.ID] {
			return nil, clinic.Errorf(clinic.CodeInvalid, "vignette line %d repeats id %q", line, vg.ID)
		}
		ids[vg.ID] = true
		out = append(out, vg)
	}
	if err := sc.Err(); err != nil {
		return nil, clinic.Wrap(err, clinic.CodeInvalid, "cannot read vignettes", "无法读取病例")
	}
	return out, nil
}

// VignetteOutcome is the engine's result on one vignette.
type VignetteOutcome struct {
	ID         string        `json:"id"`
	Gold       clinic.Acuity `json:"gold"`
	Got        clinic.Acuity `json:"got"`
	RedFlag    string        `json:"red_flag,omitempty"`
	Fired      []string      `json:"fired,omitempty"`
	Escalation string        `json:"escalation,omitempty"`
	Department string        `json:"department,omitempty"`
	Turns      int           `json:"turns"`
}

// VignetteResult summarises acuity accuracy on a vignette set.
type VignetteResult struct {
	N     int `json:"n"`
	Exact int `json:"exact"`
	// UnderTriage counts cases given a less urgent level than gold;
	// UnderTriageHigh those among gold level I or II (target 0).
	UnderTriage     int `json:"under_triage"`
	UnderTriageHigh int `json:"under_triage_high"`
	OverTriage      int `json:"over_triage"`
	// RedFlagCases have a gold red flag; RedFlagHits fired a rule with that
	// ID prefix. FalseRedFlags fired a level I/II rule on a case without a
	// gold red flag.
	RedFlagCases  int `json:"red_flag_cases"`
	RedFlagHits   int `json:"red_flag_hits"`
	FalseRedFlags int `json:"false_red_flags"`
	// Confusion[gold][got] counts levels 1–4 (index 0 unused).
	Confusion [5][5]int `json:"confusion"`
	// Misses lists the cases not triaged exactly or missing their red flag.
	Misses []VignetteOutcome `json:"misses,omitempty"`
	// ByLang counts cases per language.
	ByLang map[string]int `json:"by_lang"`
}

// EvalVignettes runs each vignette as a kiosk session — the text, age, sex
// and vitals as intake, every follow-up question answered "unsure" — and
// compares the final acuity and red flags with the gold labels.
func EvalVignettes(ctx context.Context, e *Engine, vs []Vignette) (VignetteResult, error) {
	res := VignetteResult{ByLang: map[string]int{}}
	for _, v := range vs {
		turn, err := e.Start(ctx, Intake{Text: v.Text, Age: v.Age, Sex: v.Sex, Vitals: v.Vitals})
		if err != nil {
			return VignetteResult{}, fmt.Errorf("triage.EvalVignettes(%s): %w", v.ID, err)
		}
		turns := 1
		for turn.Kind == TurnQuestion && turns < 10 {
			a := Answer{QuestionID: turn.Question.ID, Choice: ChoiceUnsure}
			if turn.Question.ID == QuestionRephrase {
				a = Answer{QuestionID: QuestionRephrase, Text: v.Text}
			}
			if turn, err = e.Answer(ctx, turn.State, a); err != nil {
				return VignetteResult{}, fmt.Errorf("triage.EvalVignettes(%s): %w", v.ID, err)
			}
			turns++
		}
		o := VignetteOutcome{ID: v.ID, Gold: v.Acuity, Got: turn.Acuity, RedFlag: v.RedFlag, Turns: turns}
		for _, rf := range turn.RedFlags {
			o.Fired = append(o.Fired, string(rf.RuleID))
		}
		if turn.Escalation != nil {
			o.Escalation = turn.Escalation.Code
		}
		if turn.Recommendation != nil && len(turn.Recommendation.Departments) > 0 {
			o.Department = turn.Recommendation.Departments[0].Code
		}
		res.N++
		lang := v.Lang
		if lang == "" {
			lang = "zh"
		}
		res.ByLang[lang]++
		if o.Got.Valid() {
			res.Confusion[o.Gold][o.Got]++
		}
		miss := false
		switch {
		case o.Got == o.Gold:
			res.Exact++
		case !o.Got.Valid() || o.Got > o.Gold:
			res.UnderTriage++
			if o.Gold <= clinic.AcuityII {
				res.UnderTriageHigh++
			}
			miss = true
		default:
			res.OverTriage++
			miss = true
		}
		if v.RedFlag != "" {
			res.RedFlagCases++
			if slices.ContainsFunc(o.Fired, func(id string) bool { return strings.HasPrefix(id, v.RedFlag) }) {
				res.RedFlagHits++
			} else {
				miss = true
			}
		} else if slices.ContainsFunc(turn.RedFlags, func(rf RedFlag) bool { return rf.Acuity <= clinic.AcuityII }) {
			res.FalseRedFlags++
		}
		if miss {
			res.Misses = append(res.Misses, o)
		}
	}
	return res, nil
}
