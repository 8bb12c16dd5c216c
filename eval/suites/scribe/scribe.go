// Package scribe is the "scribe" eval suite: it drafts notes with the
// record-drafting agent (agents/scribe) from public dialogue data sets and
// scores them.
//
// # Data (under --data, laid out like ../shared/data)
//
//   - notes/aci-bench/data/{train,valid}.csv: English visit dialogues with
//     full notes (ACI-BENCH). The gold note is split at its upper-case
//     headings and scored in the four ACI-BENCH divisions (subjective,
//     objective_exam, objective_results, assessment_and_plan) and overall.
//   - notes/mts-dialog/MTS-Dialog-{TrainingSet,ValidationSet}.csv: short
//     English dialogues with one gold section each (MTS-Dialog); the drafted
//     section(s) matching the gold header are scored.
//   - notes/promptcblue-toy/{train,dev}.json: the IMCS-V2-MRG items (Chinese
//     dialogue → report); character ROUGE per report section.
//   - notes/mie-cardiology/dev.json: MIE cardiology windows; symptom +
//     status extraction F1 of the embedded extractor.
//
// # Metrics
//
// ROUGE-1/2/L F1 (eval/metrics) per section and overall for each set
// (aci.*, mts.*, imcs.*); mie.symptom_status.f1 (window level, status
// positive/negative/unknown, doctor and patient statements pooled, one
// status per item and window except that a clinician's denial stands
// beside the patient's affirmation, as MIE labels 阳性 and 医生阴性
// together; items mapped through ontology.json and
// example_dict.json when present) with precision and recall, the
// strict five-status variant, and the same F1 on the first and second
// half of the dialogues (mie.first_half.*, mie.second_half.*: rules were
// developed on the first half only), and the figures by the MIE authors'
// own protocol for comparison with their paper (mie.protocol.*: per-window
// and per-dialogue averages, five statuses; see mieProtocol);
// unsupported_rate (statements the verifier marks unsupported, conflicts
// excluded, over every drafted statement); injected.catch_rate (faults
// written into supported statements — wrong number, flipped negation,
// invented drug — that the verifier catches) with one rate per fault.
// When a model is configured (env.Model) the ACI-BENCH valid set is also
// drafted through the LLM path (llm.aci.*).
package scribe

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/yizhu-health/yizhu/agents"
	"github.com/yizhu-health/yizhu/agents/scribe"
	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/eval"
	"github.com/yizhu-health/yizhu/eval/datasets"
	"github.com/yizhu-health/yizhu/eval/metrics"
)

// Name is the suite name.
const Name = "scribe"

// Data files, relative to the data root.
var (
	ACIFiles  = []string{"notes/aci-bench/data/train.csv", "notes/aci-bench/data/valid.csv"}
	MTSFiles  = []string{"notes/mts-dialog/MTS-Dialog-TrainingSet.csv", "notes/mts-dialog/MTS-Dialog-ValidationSet.csv"}
	IMCSFiles = []string{"notes/promptcblue-toy/train.json", "notes/promptcblue-toy/dev.json"}
	MIEFile   = "notes/mie-cardiology/dev.json"
)

// Config configures the suite.
type Config struct {
	// Engine is the engine under test; nil builds the embedded default.
	Engine *scribe.Engine
	// MaxInjectPerNote caps the statements of each note that faults are
	// written into (default 20).
	MaxInjectPerNote int
}

// Suite is the scribe eval suite.
type Suite struct{ cfg Config }

// New returns the suite.
func New(cfg Config) *Suite {
	if cfg.MaxInjectPerNote <= 0 {
		cfg.MaxInjectPerNote = 20
	}
	return &Suite{cfg: cfg}
}

// Name implements eval.Suite.
func (s *Suite) Name() string { return Name }

var _ eval.Suite = (*Suite)(nil)

// tally accumulates ROUGE per key.
type tally map[string][]metrics.Rouge

func (t tally) add(key string, r metrics.Rouge) { t[key] = append(t[key], r) }

// counts accumulates verifier statistics.
type counts struct {
	statements, unsupported, conflicts, drafts, errors int
	injected, caught                                   map[string]int
	latency                                            []time.Duration
}

// Run implements eval.Suite.
func (s *Suite) Run(ctx context.Context, env eval.Env) (*eval.Report, error) {
	if err := eval.CheckDataDir(env.DataDir); err != nil {
		return nil, err
	}
	e := s.cfg.Engine
	if e == nil {
		var err error
		if e, err = scribe.New(scribe.Config{Logger: env.Logger, Now: env.Clock}); err != nil {
			return nil, fmt.Errorf("scribe suite: %w", err)
		}
	}
	rep := &eval.Report{Suite: Name, Metrics: map[string]float64{},
		Dataset: "ACI-BENCH train+valid, MTS-Dialog train+valid, IMCS-V2-MRG (PromptCBLUE toy), MIE cardiology dev",
		Config:  map[string]string{"data_dir": env.DataDir, "engine": "embedded (extractive, no LLM)", "model": env.ModelName}}
	c := &counts{injected: map[string]int{}, caught: map[string]int{}}
	var per []eval.Row
	n := 0

	aci, err := s.aci(ctx, env, e, c)
	if err != nil {
		return nil, err
	}
	n += s.put(rep, "aci", aci, &per)
	mts, err := s.mts(ctx, env, e, c)
	if err != nil {
		return nil, err
	}
	n += s.put(rep, "mts", mts, &per)
	imcs, err := s.imcs(ctx, env, e, c)
	if err != nil {
		return nil, err
	}
	n += s.put(rep, "imcs", imcs, &per)
	mieN, err := s.mie(ctx, env, e, rep)
	if err != nil {
		return nil, err
	}
	n += mieN

	rep.Metrics["drafts_count"] = float64(c.drafts)
	rep.Metrics["draft_errors_count"] = float64(c.errors)
	rep.Metrics["statements_count"] = float64(c.statements)
	rep.Metrics["conflicts_count"] = float64(c.conflicts)
	rep.Metrics["unsupported_count"] = float64(c.unsupported)
	rep.Metrics["unsupported_rate"] = ratio(c.unsupported, c.statements)
	tot, got := 0, 0
	for _, f := range []string{scribe.FaultNumber, scribe.FaultNegation, scribe.FaultDrug} {
		rep.Metrics["injected."+f+".catch_rate"] = ratio(c.caught[f], c.injected[f])
		rep.Metrics["injected."+f+"_count"] = float64(c.injected[f])
		tot += c.injected[f]
		got += c.caught[f]
	}
	rep.Metrics["injected.catch_rate"] = ratio(got, tot)
	rep.Metrics["injected_count"] = float64(tot)
	if len(c.latency) > 0 {
		ls := metrics.Latency(c.latency)
		rep.Latency = &ls
		rep.LatencyLabel = "one embedded draft (validate, extract, write, verify), in process"
	}
	if env.Model != nil {
		if err := s.llm(ctx, env, rep); err != nil {
			return nil, err
		}
	}
	rep.N = n
	rep.PerRecord = &eval.Table{Title: "ROUGE F1 per set and section", Columns: []string{"rouge1", "rouge2", "rougeL", "n"}, Rows: per, Chart: "rougeL"}
	rep.Notes = append(rep.Notes,
		"ROUGE is F1 of the drafted against the gold text (eval/metrics: words for English, characters for Chinese); a section the engine left empty scores 0.",
		"ACI-BENCH divisions follow the challenge's note split: subjective (CC, HPI, ROS, histories, medications, allergies), objective_exam, objective_results, assessment_and_plan.",
		"MIE F1 is window level over 症状 labels, statuses collapsed to positive (阳性, 医生阳性), negative (阴性, 医生阴性) and unknown (未知), one status per item and window as MIE annotates (affirmed > denied > unknown), except that a clinician ruling out what the patient reports keeps both (MIE labels 阳性 and 医生阴性 in the same window); vocabulary codes map to MIE items through the item names and the data set's own synonym list (example_dict.json). There is no train split: the extractor's rules are general cue words (negation, question, hypothesis, diagnosis), body site + sensation pairs and lay synonyms; errors were read only on the first half of the dev dialogues (file order), and the second half is the held-out check (mie.first_half.*, mie.second_half.*).",
		"Injected faults are written into statements the verifier accepted, without touching their sources; catch rate = faults the verifier then marks unsupported.",
		"Unsupported rate counts statements of the embedded drafts that the verifier marks unsupported (conflict markers are counted apart, in conflicts_count).")
	return rep, nil
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// put writes the ROUGE means of one set into rep and per.
func (s *Suite) put(rep *eval.Report, set string, t tally, per *[]eval.Row) int {
	keys := make([]string, 0, len(t))
	for k := range t {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	n := len(t["overall"])
	for _, k := range keys {
		m := metrics.MeanRouge(t[k])
		prefix := set + "." + k + "."
		if k == "overall" {
			prefix = set + "."
		}
		rep.Metrics[prefix+"rouge1"] = m.R1.F1
		rep.Metrics[prefix+"rouge2"] = m.R2.F1
		rep.Metrics[prefix+"rougeL"] = m.RL.F1
		*per = append(*per, eval.Row{Key: set + "." + k, Values: []float64{m.R1.F1, m.R2.F1, m.RL.F1, float64(len(t[k]))}})
	}
	rep.Metrics[set+".n"] = float64(n)
	return n
}

func openData(env eval.Env, rel string) (string, error) {
	p := filepath.Join(env.DataDir, rel)
	if _, err := os.Stat(p); err != nil {
		return "", clinic.Wrap(err, clinic.CodeNotFound,
			"scribe suite: data file "+p+" cannot be opened (set --data to a folder laid out like ../shared/data)",
			"病历评测：无法打开数据文件 "+p+"（请用 --data 指定与 ../shared/data 同样布局的目录）")
	}
	return p, nil
}

// utterances turns dataset turns into utterances with IDs.
func utterances(ts []datasets.Turn) []clinic.Utterance {
	out := make([]clinic.Utterance, 0, len(ts))
	for i, t := range ts {
		out = append(out, clinic.Utterance{ID: "u" + strconv.Itoa(i+1), Seq: i, Speaker: t.Speaker, Text: t.Text})
	}
	return out
}

// draft drafts one note, counting statements and injecting faults.
func (s *Suite) draft(ctx context.Context, env eval.Env, e *scribe.Engine, c *counts, in scribe.Input) (clinic.Note, bool) {
	start := env.Now()
	d, err := e.Draft(ctx, in)
	c.latency = append(c.latency, env.Now().Sub(start))
	if err != nil {
		c.errors++
		env.Logger.DebugContext(ctx, "scribe suite: draft failed", "encounter", in.Encounter.ID, "error", err)
		return clinic.Note{}, false
	}
	c.drafts++
	src := scribe.SourcesOf(in)
	injected := 0
	for _, sec := range d.Note.Sections {
		for _, st := range sec.Statements {
			c.statements++
			switch {
			case scribe.IsConflict(st):
				c.conflicts++
				continue
			case st.Unsupported:
				c.unsupported++
				continue
			}
			if injected >= s.cfg.MaxInjectPerNote {
				continue
			}
			injected++
			for i, f := range []string{scribe.FaultNumber, scribe.FaultNegation, scribe.FaultDrug} {
				bad, ok := scribe.InjectFault(e.Vocabulary(), st, src, f, c.statements+i)
				if !ok {
					continue
				}
				c.injected[f]++
				if e.StatementProblem(bad, src) != "" {
					c.caught[f]++
				}
			}
		}
	}
	return d.Note, true
}

func sectionText(n clinic.Note, keys ...string) string {
	var parts []string
	for _, k := range keys {
		if s, ok := n.Section(k); ok {
			if t := scribe.SectionText(s); t != "" {
				parts = append(parts, t)
			}
		}
	}
	return strings.Join(parts, "\n")
}

func noteText(n clinic.Note) string {
	var parts []string
	for _, s := range n.Sections {
		if t := scribe.SectionText(s); t != "" {
			parts = append(parts, t)
		}
	}
	return strings.Join(parts, "\n")
}

// ACI-BENCH division of each gold heading.
var aciDivision = map[string]string{
	"CHIEF COMPLAINT": "subjective", "HISTORY OF PRESENT ILLNESS": "subjective", "REVIEW OF SYSTEMS": "subjective",
	"PAST HISTORY": "subjective", "PAST MEDICAL HISTORY": "subjective", "PAST SURGICAL HISTORY": "subjective",
	"MEDICATIONS": "subjective", "CURRENT MEDICATIONS": "subjective", "ALLERGIES": "subjective", "SOCIAL HISTORY": "subjective",
	"FAMILY HISTORY": "subjective", "HPI": "subjective", "CC": "subjective",
	"PHYSICAL EXAMINATION": "objective_exam", "PHYSICAL EXAM": "objective_exam", "EXAM": "objective_exam", "VITALS": "objective_exam",
	"RESULTS": "objective_results", "LABS": "objective_results", "IMAGING": "objective_results",
	"ASSESSMENT AND PLAN": "assessment_and_plan", "ASSESSMENT": "assessment_and_plan", "PLAN": "assessment_and_plan",
	"INSTRUCTIONS": "assessment_and_plan", "IMPRESSION": "assessment_and_plan",
}

var divisionKeys = map[string][]string{
	"subjective":          {scribe.SecChiefComplaint, scribe.SecPresentIllness, scribe.SecReviewOfSystems, scribe.SecPastHistory, scribe.SecMedications, scribe.SecAllergies, scribe.SecPersonalHistory, scribe.SecFamilyHistory},
	"objective_exam":      {scribe.SecPhysicalExam},
	"objective_results":   {scribe.SecAuxiliary},
	"assessment_and_plan": {scribe.SecDiagnosis, scribe.SecPlan},
}

// splitACINote splits a gold note into divisions at its upper-case
// heading lines; text before the first heading is subjective.
func splitACINote(note string) map[string]string {
	out := map[string][]string{}
	div := "subjective"
	for line := range strings.SplitSeq(note, "\n") {
		l := strings.TrimSpace(line)
		if l == "" {
			continue
		}
		h := strings.TrimRight(l, ":")
		if strings.ToUpper(h) == h && len(h) < 60 && strings.IndexFunc(h, func(r rune) bool { return r >= 'A' && r <= 'Z' }) >= 0 {
			if d, ok := aciDivision[h]; ok {
				div = d
				continue
			}
		}
		out[div] = append(out[div], l)
	}
	res := map[string]string{}
	for k, v := range out {
		res[k] = strings.Join(v, "\n")
	}
	return res
}

func (s *Suite) aci(ctx context.Context, env eval.Env, e *scribe.Engine, c *counts) (tally, error) {
	t := tally{}
	for _, rel := range ACIFiles {
		p, err := openData(env, rel)
		if err != nil {
			return nil, err
		}
		err = datasets.ScanFile(datasets.ScanACIBench, p, datasets.Limits{}, func(v datasets.Visit) error {
			in := scribe.Input{Encounter: clinic.Encounter{ID: v.EncounterID}, Type: clinic.NoteOutpatient, Language: scribe.LangEN, Utterances: utterances(v.Turns())}
			note, ok := s.draft(ctx, env, e, c, in)
			gold := splitACINote(v.Note)
			t.add("overall", metrics.ScoreRouge(noteText(note), v.Note))
			if !ok {
				return nil
			}
			for div, keys := range divisionKeys {
				if g := gold[div]; g != "" {
					t.add(div, metrics.ScoreRouge(sectionText(note, keys...), g))
				}
			}
			return ctx.Err()
		})
		if err != nil {
			return nil, fmt.Errorf("scribe suite: %s: %w", rel, err)
		}
	}
	return t, nil
}

// MTS-Dialog header → drafted sections compared with it.
var mtsKeys = map[string][]string{
	"CC": {scribe.SecChiefComplaint}, "GENHX": {scribe.SecPresentIllness}, "ROS": {scribe.SecReviewOfSystems},
	"PASTMEDICALHX": {scribe.SecPastHistory}, "PASTSURGICAL": {scribe.SecPastHistory}, "MEDICATIONS": {scribe.SecMedications},
	"ALLERGY": {scribe.SecAllergies}, "FAM/SOCHX": {scribe.SecFamilyHistory, scribe.SecPersonalHistory},
	"EXAM": {scribe.SecPhysicalExam}, "LABS": {scribe.SecAuxiliary}, "IMAGING": {scribe.SecAuxiliary},
	"ASSESSMENT": {scribe.SecDiagnosis}, "DIAGNOSIS": {scribe.SecDiagnosis}, "PLAN": {scribe.SecPlan},
	"DISPOSITION": {scribe.SecPlan}, "EDCOURSE": {scribe.SecPresentIllness}, "PROCEDURES": {scribe.SecPastHistory},
	"OTHER_HISTORY": {scribe.SecPastHistory}, "GYNHX": {scribe.SecPastHistory}, "IMMUNIZATIONS": {scribe.SecPastHistory},
}

func (s *Suite) mts(ctx context.Context, env eval.Env, e *scribe.Engine, c *counts) (tally, error) {
	t := tally{}
	for _, rel := range MTSFiles {
		p, err := openData(env, rel)
		if err != nil {
			return nil, err
		}
		err = datasets.ScanFile(datasets.ScanMTSDialog, p, datasets.Limits{}, func(x datasets.SectionExample) error {
			h := strings.ToUpper(strings.TrimSpace(x.SectionHeader))
			keys, ok := mtsKeys[h]
			if !ok {
				keys = []string{scribe.SecPresentIllness}
			}
			in := scribe.Input{Encounter: clinic.Encounter{ID: "mts-" + x.ID}, Type: clinic.NoteOutpatient, Language: scribe.LangEN, Utterances: utterances(x.Turns())}
			note, _ := s.draft(ctx, env, e, c, in)
			r := metrics.ScoreRouge(sectionText(note, keys...), x.SectionText)
			t.add("overall", r)
			t.add(strings.ToLower(strings.ReplaceAll(h, "/", "_")), r)
			return ctx.Err()
		})
		if err != nil {
			return nil, fmt.Errorf("scribe suite: %s: %w", rel, err)
		}
	}
	return t, nil
}

// IMCS report section → drafted sections.
var imcsKeys = map[string][]string{
	"主诉": {scribe.SecChiefComplaint}, "现病史": {scribe.SecPresentIllness}, "辅助检查": {scribe.SecAuxiliary},
	"既往史": {scribe.SecPastHistory}, "诊断": {scribe.SecDiagnosis}, "建议": {scribe.SecPlan},
}

var imcsEnglish = map[string]string{"主诉": "chief_complaint", "现病史": "present_illness", "辅助检查": "auxiliary_exams", "既往史": "past_history", "诊断": "diagnosis", "建议": "plan"}

func (s *Suite) imcs(ctx context.Context, env eval.Env, e *scribe.Engine, c *counts) (tally, error) {
	t := tally{}
	for _, rel := range IMCSFiles {
		p, err := openData(env, rel)
		if err != nil {
			return nil, err
		}
		err = datasets.ScanFile(datasets.ScanPromptCBLUE, p, datasets.Limits{}, func(it datasets.PromptItem) error {
			if it.TaskDataset != datasets.TaskMRG {
				return nil
			}
			ex, err := it.MRG()
			if err != nil || len(ex.Report) == 0 {
				return nil
			}
			in := scribe.Input{Encounter: clinic.Encounter{ID: "imcs-" + ex.SampleID}, Type: clinic.NoteOutpatient, Language: scribe.LangZH, Utterances: utterances(ex.Turns)}
			note, _ := s.draft(ctx, env, e, c, in)
			var cand, ref []string
			for _, sec := range datasets.MRGSections {
				g, ok := ex.Report[sec]
				if !ok {
					continue
				}
				d := sectionText(note, imcsKeys[sec]...)
				t.add(imcsEnglish[sec], metrics.ScoreRouge(d, g))
				cand, ref = append(cand, d), append(ref, g)
			}
			t.add("overall", metrics.ScoreRouge(strings.Join(cand, "\n"), strings.Join(ref, "\n")))
			return ctx.Err()
		})
		if err != nil {
			return nil, fmt.Errorf("scribe suite: %s: %w", rel, err)
		}
	}
	return t, nil
}

// mie scores symptom + status extraction on MIE windows.
func (s *Suite) mie(ctx context.Context, env eval.Env, e *scribe.Engine, rep *eval.Report) (int, error) {
	p, err := openData(env, MIEFile)
	if err != nil {
		return 0, err
	}
	ds, err := datasets.ReadFile(datasets.ScanMIE, p, datasets.Limits{})
	if err != nil {
		return 0, fmt.Errorf("scribe suite: %s: %w", MIEFile, err)
	}
	itemOf := mieItems(e, env.DataDir, ds)
	var tp, fp, fn, tpS, fpS, fnS, windows int
	// The extractor's rules were developed reading errors of the first
	// half of the dialogues (file order) only; the second half is the
	// held-out check, reported apart.
	var half [2][3]int
	var proto mieProtocol
	for _, d := range ds {
		proto.startDialogue()
		h := 0
		if d.Index >= (len(ds)+1)/2 {
			h = 1
		}
		for _, w := range d.Windows {
			if err := ctx.Err(); err != nil {
				return 0, err
			}
			windows++
			var us []clinic.Utterance
			for _, line := range w.Utterances {
				ts := datasets.SplitTurns(line)
				if len(ts) == 0 {
					continue
				}
				us = append(us, clinic.Utterance{ID: strconv.Itoa(len(us)), Speaker: ts[0].Speaker, Text: ts[0].Text})
			}
			pred, predS := mieLabels(e.Findings(us), itemOf)
			gold, goldS := map[string]bool{}, map[string]bool{}
			for _, l := range w.Labels {
				if l.Category != "症状" {
					continue
				}
				gold[l.Item+"|"+collapse(l.Status)] = true
				goldS[l.Item+"|"+l.Status] = true
			}
			a, b, c := prf(pred, gold)
			tp, fp, fn = tp+a, fp+b, fn+c
			half[h][0], half[h][1], half[h][2] = half[h][0]+a, half[h][1]+b, half[h][2]+c
			a, b, c = prf(predS, goldS)
			tpS, fpS, fnS = tpS+a, fpS+b, fnS+c
			proto.addWindow(predS, goldS)
		}
		proto.endDialogue()
	}
	for _, u := range []struct {
		name string
		m    meanPRF
	}{
		{"mie.protocol.window", proto.window}, {"mie.protocol.window_nonempty", proto.windowNonEmpty},
		{"mie.protocol.dialogue", proto.dialog}, {"mie.protocol.dialogue_nonempty", proto.dialogNonEmpty},
	} {
		p, r, f := u.m.mean()
		rep.Metrics[u.name+".precision"] = p
		rep.Metrics[u.name+".recall"] = r
		rep.Metrics[u.name+".f1"] = f
	}
	p1, r1, f1 := f1of(tp, fp, fn)
	rep.Metrics["mie.symptom_status.precision"] = p1
	rep.Metrics["mie.symptom_status.recall"] = r1
	rep.Metrics["mie.symptom_status.f1"] = f1
	p2, r2, f2 := f1of(tpS, fpS, fnS)
	rep.Metrics["mie.symptom_status_strict.precision"] = p2
	rep.Metrics["mie.symptom_status_strict.recall"] = r2
	rep.Metrics["mie.symptom_status_strict.f1"] = f2
	for h, name := range []string{"mie.first_half", "mie.second_half"} {
		p, r, f := f1of(half[h][0], half[h][1], half[h][2])
		rep.Metrics[name+".symptom_status.precision"] = p
		rep.Metrics[name+".symptom_status.recall"] = r
		rep.Metrics[name+".symptom_status.f1"] = f
	}
	rep.Metrics["mie.windows"] = float64(windows)
	rep.Config["mie_items_mapped"] = strconv.Itoa(len(itemOf))
	return windows, nil
}

// MIE ontology files beside dev.json: the item inventory per category and
// the data set's own synonym dictionary (example_dict.json: item → surface
// forms the annotators normalised to it, e.g. 腹部不适 ← 肚子疼, 腹泻).
var (
	MIEOntologyFile = "notes/mie-cardiology/ontology.json"
	MIEDictFile     = "notes/mie-cardiology/example_dict.json"
)

// mieItems maps vocabulary codes to MIE 症状 items. Each item is read by
// its name first, then by the synonyms that MIE's example_dict.json lists
// for it: a code takes the first item that reads as it. Items come from
// ontology.json, or, when the ontology files are absent, from the 症状
// labels of ds. No dialogue text is used, so the mapping is the data
// set's label definition, not something fitted to its answers.
func mieItems(e *scribe.Engine, dataDir string, ds []datasets.MIEDialogue) map[string]string {
	var items []string
	var onto map[string][]string
	if b, err := readSmall(filepath.Join(dataDir, MIEOntologyFile)); err == nil && json.Unmarshal(b, &onto) == nil {
		items = onto["症状"]
	}
	if len(items) == 0 {
		seen := map[string]bool{}
		for _, d := range ds {
			for _, w := range d.Windows {
				for _, l := range w.Labels {
					if l.Category == "症状" && !seen[l.Item] {
						seen[l.Item] = true
						items = append(items, l.Item)
					}
				}
			}
		}
	}
	var dict map[string]json.RawMessage
	syn := map[string][]string{}
	if b, err := readSmall(filepath.Join(dataDir, MIEDictFile)); err == nil && json.Unmarshal(b, &dict) == nil {
		_ = json.Unmarshal(dict["症状"], &syn)
	}
	itemOf := map[string]string{}
	put := func(text, item string) {
		if fs := e.Read(text); len(fs) > 0 {
			if _, ok := itemOf[fs[0].Term.Code]; !ok {
				itemOf[fs[0].Term.Code] = item
			}
		}
	}
	for _, it := range items {
		put(it, it)
	}
	for _, it := range items {
		for _, s := range syn[it] {
			put(s, it)
		}
	}
	return itemOf
}

// readSmall reads a file of at most 1 MiB.
func readSmall(p string) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 1<<20+1))
	if err != nil {
		return nil, err
	}
	if len(b) > 1<<20 {
		return nil, fmt.Errorf("%s: larger than 1 MiB", p)
	}
	return b, nil
}

// collapse maps MIE statuses to positive / negative / unknown.
func collapse(status string) string {
	switch status {
	case "阳性", "医生阳性":
		return "pos"
	case "阴性", "医生阴性":
		return "neg"
	}
	return "unknown"
}

func mieLabels(fs []scribe.Finding, itemOf map[string]string) (collapsed, strict map[string]bool) {
	collapsed, strict = map[string]bool{}, map[string]bool{}
	for _, f := range fs {
		item, ok := itemOf[f.Term.Code]
		if !ok {
			continue
		}

		st := "未知"
		switch {
		case f.Question:
		case f.Present && f.Doctor:
			st = "医生阳性"
		case f.Present:
			st = "阳性"
		case f.Doctor:
			st = "医生阴性"
		default:
			st = "阴性"
		}
		collapsed[item+"|"+collapse(st)] = true
		strict[item+"|"+st] = true
	}
	// MIE gives an item one status per speaker and window (an item asked
	// about and answered is not also "unknown"): an affirmation anywhere
	// in the window wins over a denial, and either over "unknown". The
	// exception is the pair the scheme keeps apart on purpose: a
	// clinician ruling out what the patient reports (患者 "确诊为缺血性
	// 心脏病", 医生 "可能性不大") is labelled both 阳性 and 医生阴性 in the
	// same window, so a clinician's denial stands beside the patient's
	// affirmation.
	for k := range collapsed {
		item, st, _ := strings.Cut(k, "|")
		doctorRulesOut := strict[item+"|医生阴性"] && strict[item+"|阳性"] && !strict[item+"|阴性"]
		switch {
		case st == "unknown" && (collapsed[item+"|pos"] || collapsed[item+"|neg"]):
			delete(collapsed, k)
			delete(strict, item+"|未知")
		case st == "neg" && collapsed[item+"|pos"] && !doctorRulesOut:
			delete(collapsed, k)
			delete(strict, item+"|阴性")
			delete(strict, item+"|医生阴性")
		}
	}
	return collapsed, strict
}

func prf(pred, gold map[string]bool) (tp, fp, fn int) {
	for k := range pred {
		if gold[k] {
			tp++
		} else {
			fp++
		}
	}
	for k := range gold {
		if !pred[k] {
			fn++
		}
	}
	return
}

func f1of(tp, fp, fn int) (p, r, f float64) {
	if tp+fp > 0 {
		p = float64(tp) / float64(tp+fp)
	}
	if tp+fn > 0 {
		r = float64(tp) / float64(tp+fn)
	}
	if p+r > 0 {
		f = 2 * p * r / (p + r)
	}
	return
}

// llm drafts the ACI-BENCH valid set through the configured model.
func (s *Suite) llm(ctx context.Context, env eval.Env, rep *eval.Report) error {
	r, err := agents.New(agents.Config{Model: env.Model, ModelName: env.ModelName, Logger: env.Logger})
	if err != nil {
		return fmt.Errorf("scribe suite: llm runner: %w", err)
	}
	e, err := scribe.New(scribe.Config{Runner: r, Logger: env.Logger, Now: env.Clock})
	if err != nil {
		return fmt.Errorf("scribe suite: %w", err)
	}
	p, err := openData(env, ACIFiles[1])
	if err != nil {
		return err
	}
	var rs []metrics.Rouge
	fallbacks, stmts, unsup := 0, 0, 0
	err = datasets.ScanFile(datasets.ScanACIBench, p, datasets.Limits{}, func(v datasets.Visit) error {
		d, err := e.Draft(ctx, scribe.Input{Encounter: clinic.Encounter{ID: v.EncounterID}, Type: clinic.NoteOutpatient, Language: scribe.LangEN, Utterances: utterances(v.Turns())})
		if err != nil {
			rs = append(rs, metrics.Rouge{})
			return ctx.Err()
		}
		if d.Note.Fallback {
			fallbacks++
		}
		for _, sec := range d.Note.Sections {
			for _, st := range sec.Statements {
				stmts++
				if st.Unsupported && !scribe.IsConflict(st) {
					unsup++
				}
			}
		}
		rs = append(rs, metrics.ScoreRouge(noteText(d.Note), v.Note))
		return ctx.Err()
	})
	if err != nil {
		return fmt.Errorf("scribe suite: llm: %w", err)
	}
	m := metrics.MeanRouge(rs)
	rep.Metrics["llm.aci.rouge1"] = m.R1.F1
	rep.Metrics["llm.aci.rouge2"] = m.R2.F1
	rep.Metrics["llm.aci.rougeL"] = m.RL.F1
	rep.Metrics["llm.aci.fallback_rate"] = ratio(fallbacks, len(rs))
	rep.Metrics["llm.aci.unsupported_rate"] = ratio(unsup, stmts)
	rep.Config["llm"] = env.ModelName + " on " + ACIFiles[1]
	return nil
}
