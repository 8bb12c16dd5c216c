// Package ecg is the "ecg" eval suite: it runs the streaming ECG core
// (inference/ecg) over every WFDB or challenge record it finds under
// <data>/ecg and scores what the records' own references allow:
//
//   - QRS detection, on every record with a beat annotation file (.atr):
//     beat-by-beat matching within the 150 ms window of ANSI/AAMI EC57,
//     gross and per-record sensitivity and positive predictivity
//     (MIT-BIH 100, SVDB 800 and the CPSC 2021 Holter excerpts in
//     ../shared/data);
//   - beat classes, on the annotated records under ReferencePrefix
//     (MIT-BIH 100, SVDB 800; the CPSC 2021 R-peak labels are not a beat
//     classification): over the beat pairs the QRS matching made, the
//     reference MIT-BIH codes are grouped into the AAMI classes of EC57
//     (aamiClass) and compared with the analyser's N/S/V/Q labels, EC57
//     style: beat_class.sveb.* and beat_class.veb.* give the ref, tp, fn
//     and fp counts, sensitivity and positive_predictivity, gross over
//     the records and per record (the record key appended to the name);
//     beat_class.n.ref, .n.tp, .n.sensitivity, beat_class.f.ref,
//     .f.as_v (fusion beats labelled V, not VEB false positives, as in
//     EC57), beat_class.q.ref (reference Q beats, left out) and
//     beat_class.pairs, beat_class.records. Missed and extra beats are
//     the QRS metrics' business and do not count here. A ratio whose
//     denominator is zero is left out of the report;
//   - atrial fibrillation episodes, on every record whose .atr holds rhythm
//     annotations: episode sensitivity and positive predictivity of the
//     reported atrial_fibrillation episodes against "(AFIB"/"(AFL" episodes
//     (overlap of at least one sample, as EC57's episode comparison);
//     a record whose header gives the CPSC 2021 class "non atrial
//     fibrillation" has no AF episode by definition, so every AF episode
//     reported there is false (af.non_af_*);
//   - ST elevation, on records whose header says the patient was admitted
//     with myocardial infarction (PTB "Reason for admission: Myocardial
//     infarction"): the share flagged with the STEMI critical value or an
//     st_elevation finding; and, as a specificity check, how many of the
//     12-lead challenge records whose header diagnoses ("Dx:", SNOMED CT
//     codes or CPSC 2018 labels) name neither ST elevation, myocardial
//     infarction nor ischaemia are flagged all the same (st.no_ste_*);
//   - infarction, on the same records: the share of MI records flagged by
//     ST elevation or by Q waves of infarction (q_wave_infarction, 4th
//     UDMI), mi.flagged_rate, with the Q waves measured on each noted;
//     and the Q-wave flags on records whose diagnoses name no MI
//     (q_wave.no_mi_*);
//   - critical values: how many of each rule were raised over all
//     records (critical.<rule id>), each listed in the notes;
//   - false alarms, on records whose header says "False alarm" (PhysioNet
//     Challenge 2015): how many raise a VT, VF or asystole/pause critical
//     value (the gate wants none);
//   - beat reporting latency (signal time from R peak to report, after the
//     warm-up) and per-record analysis wall time.
//
// The analyser never sees the annotations: they are read only after the
// report is made, to score it.
package ecg

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/eval"
	"github.com/yizhu-health/yizhu/eval/metrics"
	"github.com/yizhu-health/yizhu/inference/ecg"
	"github.com/yizhu-health/yizhu/inference/ecg/wfdb"
)

// Name is the suite's registered name.
const Name = "ecg"

// Folder is where the suite looks for records, relative to the data root.
const Folder = "ecg"

// ReferencePrefix selects the records of the QRS target (the
// PhysioNet MIT-BIH Arrhythmia and Supraventricular databases, beat
// annotated by cardiologists): qrs.reference.* pools the annotated records
// under it; qrs.* pools every annotated record.
const ReferencePrefix = "physionet/"

// Bounds.
const (
	maxRecords   = 2000
	maxAnnBytes  = 64 << 20
	maxListed    = 40
	warmUpMargin = 0.5 // seconds after WarmUp before beat latency counts
)

// Config configures the suite.
type Config struct {
	// Analyzer overrides the analysis configuration (mains frequency,
	// rules); its record-derived fields are ignored.
	Analyzer ecg.Config
}

// Suite is the ECG eval suite.
type Suite struct {
	cfg Config
}

// New returns the suite.
func New(cfg Config) *Suite { return &Suite{cfg: cfg} }

// Name implements eval.Suite.
func (s *Suite) Name() string { return Name }

var _ eval.Suite = (*Suite)(nil)

// critical rule IDs that a false alarm must not raise.
var falseAlarmRules = []clinic.RuleID{"ecg.vt_sustained", "ecg.vf", "ecg.pause"}

// recordResult is what one record gave.
type recordResult struct {
	key      string
	refBeats int
	beats    metrics.BeatCounts
	scored   bool        // has beat annotations
	classes  classCounts // beat classes over the matched pairs
	af       *metrics.EpisodeStats
	mi       bool // header: admitted with MI
	noSTE    bool // header: diagnoses given, none of them ST elevation, MI or ischaemia
	stFlag   bool
	qFlag    bool   // q_wave_infarction finding
	qWhy     string // its title (leads, Q durations and depths)
	alarm    bool   // header: false alarm
	nonAF    bool   // header: CPSC 2021 class "non atrial fibrillation"
	raised   []string
	critical bool
	alerts   []string // every critical value: "rule at t s (details)"
	byRule   map[string]int
	wall     time.Duration
	seconds  float64
}

// Run implements eval.Suite.
func (s *Suite) Run(ctx context.Context, env eval.Env) (*eval.Report, error) {
	log := env.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := eval.CheckDataDir(env.DataDir); err != nil {
		return nil, err
	}
	root := filepath.Join(env.DataDir, Folder)
	headers, err := findHeaders(root)
	if err != nil {
		return nil, err
	}
	rep := &eval.Report{
		Suite:   Name,
		Dataset: "every WFDB/challenge record under " + Folder + "/ (MIT-BIH, SVDB, PTB, Challenge 2015, CPSC 2018/2021, CinC 2021)",
		Metrics: map[string]float64{},
		Config: map[string]string{
			"data_dir":      env.DataDir,
			"beat_window":   metrics.EC57Window.String(),
			"analyzer":      "inference/ecg streaming core, records fed in 1 s chunks",
			"mains_hz":      strconv.FormatFloat(max(s.cfg.Analyzer.MainsHz, 50), 'g', -1, 64),
			"headers_found": strconv.Itoa(len(headers)),
		},
	}
	var (
		results    []recordResult
		walls      []time.Duration
		beatLatMS  []time.Duration
		loadErrors []string
	)
	for _, h := range headers {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		rel, _ := filepath.Rel(root, h)
		key := strings.TrimSuffix(filepath.ToSlash(rel), ".hea")
		r, lat, err := s.record(ctx, env, h, key)
		if err != nil {
			log.Warn("ecg suite: record skipped", "record", key, "err", err)
			loadErrors = append(loadErrors, fmt.Sprintf("%s: %v", key, err))
			continue
		}
		results = append(results, r)
		walls = append(walls, r.wall)
		beatLatMS = append(beatLatMS, lat...)
	}
	if len(results) == 0 {
		return nil, clinic.Errorf(clinic.CodeNotFound, "ecg suite: no readable ECG record under %s", root)
	}
	rep.N = len(results)
	summarize(rep, results, beatLatMS)
	rep.Metrics["load_errors"] = float64(len(loadErrors))
	st := metrics.Latency(walls)
	rep.Latency = &st
	rep.LatencyLabel = "whole-record analysis (Analyze) wall time per record"
	for i, e := range loadErrors {
		if i == maxListed {
			rep.Notes = append(rep.Notes, fmt.Sprintf("… and %d more load errors", len(loadErrors)-maxListed))
			break
		}
		rep.Notes = append(rep.Notes, "load error: "+e)
	}
	rep.Notes = append(rep.Notes,
		"QRS: beat annotations of each .atr (WFDB isqrs codes) matched one to one with the reported beats within 150 ms (EC57); the whole record is scored, warm-up included.",
		"Beat classes (beat_class.*): on the matched beat pairs of the records under "+ReferencePrefix+", the reference codes grouped into the AAMI classes of EC57 (N: N L R e j; S: A a J S; V: V E; F: F; Q: / f Q and unlisted codes, left out) against the analyser's labels; an analyser Q label counts as neither S nor V; reference F beats labelled V are not VEB false positives (EC57); unmatched beats are not counted here; a ratio with a zero denominator is left out. Two records are a regression check, not an EC57 result.",
		"AF: reported atrial_fibrillation episodes against the (AFIB/(AFL rhythm annotations; a reference episode counts as found when a reported one overlaps it. Records whose header gives the CPSC 2021 class \"non atrial fibrillation\" count as having no AF episode: every AF episode reported there is false (af.non_af_*, and in af.false_episodes and af.episode_positive_predictivity).",
		"Beat latency is signal time from the R peak to the sample at which the beat was reported, beats in the first "+strconv.FormatFloat(ecg.WarmUp+warmUpMargin, 'g', -1, 64)+" s (warm-up) excluded.",
		"The analyser never reads the annotations or header diagnoses; they only score its output.")
	return rep, nil
}

// findHeaders lists the .hea files under root, sorted; a missing root is a
// not_found error naming it.
func findHeaders(root string) ([]string, error) {
	if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
		return nil, clinic.NewError(clinic.CodeNotFound, "data",
			"ecg suite: no "+Folder+"/ folder at "+root+" (set --data to a folder laid out like ../shared/data)",
			"心电评测：未找到 "+root+"（请用 --data 指定与 ../shared/data 同样布局的目录）")
	}
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.EqualFold(filepath.Ext(p), ".hea") {
			if len(out) >= maxRecords {
				return clinic.Errorf(clinic.CodeTooLarge, "ecg suite: more than %d records under %s", maxRecords, root)
			}
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("ecg suite: walk %s: %w", root, err)
	}
	slices.Sort(out)
	return out, nil
}

// record analyses one record and scores it. It returns the beat reporting
// latencies after the warm-up.
func (s *Suite) record(ctx context.Context, env eval.Env, hea, key string) (recordResult, []time.Duration, error) {
	dir, base := filepath.Split(hea)
	name := strings.TrimSuffix(base, filepath.Ext(base))
	fsys := os.DirFS(dir)
	w, err := wfdb.ReadRecord(fsys, name+".hea")
	if err != nil {
		return recordResult{}, nil, err
	}
	rec, err := ecg.FromWFDB(w)
	if err != nil {
		return recordResult{}, nil, err
	}
	cfg := s.cfg.Analyzer
	t0 := env.Now()
	rep, err := ecg.AnalyzeWith(ctx, rec, cfg)
	if err != nil {
		return recordResult{}, nil, err
	}
	r := recordResult{key: key, wall: env.Now().Sub(t0), critical: rep.Critical, seconds: float64(rec.Len()) / rec.RateHz}

	var lat []time.Duration
	warm := int64((ecg.WarmUp + warmUpMargin) * rec.RateHz)
	for _, b := range rep.Beats {
		if b.Sample >= warm && b.Reported >= b.Sample {
			lat = append(lat, time.Duration(float64(b.Reported-b.Sample)/rec.RateHz*float64(time.Second)))
		}
	}

	// Scoring only: annotations and header diagnoses are read after the
	// analysis is done.
	for _, c := range w.Comments {
		if strings.EqualFold(strings.TrimSpace(c), "non atrial fibrillation") {
			r.nonAF = true
		}
	}
	anns, hasAnn, err := readAnnotations(fsys, name+".atr")
	if err != nil {
		return recordResult{}, nil, err
	}
	if hasAnn {
		ref := ecg.ReferenceBeats(anns)
		if len(ref) > 0 {
			det := make([]int64, len(rep.Beats))
			for i, b := range rep.Beats {
				det[i] = b.Sample
			}
			pairs, err := metrics.MatchBeatPairs(ref, det, rec.RateHz, metrics.EC57Window)
			if err != nil {
				return recordResult{}, nil, fmt.Errorf("ecg suite: %s: %w", key, err)
			}
			tp := len(pairs)
			r.beats = metrics.BeatCounts{TP: tp, FN: len(ref) - tp, FP: len(det) - tp}
			r.refBeats, r.scored = len(ref), true
			var codes []int // in the order of ref (ecg.ReferenceBeats)
			for _, a := range anns {
				if wfdb.IsBeat(a.Code) {
					codes = append(codes, a.Code)
				}
			}
			if len(codes) != len(ref) {
				return recordResult{}, nil, fmt.Errorf("ecg suite: %s: %d beat codes for %d reference beats", key, len(codes), len(ref))
			}
			labels := make([]ecg.Label, len(rep.Beats))
			for i, b := range rep.Beats {
				labels[i] = b.Label
			}
			r.classes = classifyPairs(pairs, codes, labels)
		}
		if eps := wfdb.Rhythms(anns, int64(rec.Len())); len(eps) > 0 {
			var refAF, detAF []metrics.Episode
			for _, e := range eps {
				if e.Rhythm == "AFIB" || e.Rhythm == "AFL" {
					refAF = append(refAF, metrics.Episode{Start: e.Start, End: min(e.End, int64(rec.Len()))})
				}
			}
			detAF = afEpisodes(rep)
			st := metrics.CompareEpisodes(refAF, detAF)
			r.af = &st
		}
	}
	if r.nonAF && r.af == nil {
		st := metrics.CompareEpisodes(nil, afEpisodes(rep))
		r.af = &st
	}
	for _, c := range w.Comments {
		l := strings.ToLower(c)
		if strings.Contains(l, "reason for admission") && strings.Contains(l, "myocardial infarction") {
			r.mi = true
		}
		if strings.Contains(l, "false alarm") {
			r.alarm = true
		}
		if dx, ok := strings.CutPrefix(strings.TrimSpace(c), "Dx:"); ok {
			r.noSTE = true
			for _, d := range strings.Split(dx, ",") {
				if slices.Contains(steDx, strings.TrimSpace(d)) {
					r.noSTE = false
				}
			}
		}
	}
	r.byRule = map[string]int{}
	for _, a := range rep.Alerts {
		r.byRule[string(a.RuleID)]++
		r.alerts = append(r.alerts, fmt.Sprintf("%s at %.1f–%.1f s (%s)", a.RuleID, float64(a.Start)/rec.RateHz, float64(a.End)/rec.RateHz, a.Details))
		if a.RuleID == "ecg.stemi" {
			r.stFlag = true
		}
		if slices.Contains(falseAlarmRules, a.RuleID) {
			r.raised = append(r.raised, string(a.RuleID))
		}
	}
	for _, f := range rep.Findings {
		if f.Code == "st_elevation" {
			r.stFlag = true
		}
		if f.Code == "q_wave_infarction" {
			r.qFlag, r.qWhy = true, f.Title
		}
	}
	return r, lat, nil
}

// steDx are the header diagnoses under which ST elevation may be true:
// SNOMED CT codes of the PhysioNet/CinC 2021 mapping (ST elevation,
// myocardial infarction, acute, old and anterior MI, myocardial, acute
// myocardial and anterior ischaemia) and the CPSC 2018 label STE.
var steDx = []string{"164931005", "164865005", "57054005", "164867002", "54329005", "164861001", "413444003", "426434006", "STE"}

// afEpisodes returns the report's atrial_fibrillation episodes.
func afEpisodes(rep ecg.Report) []metrics.Episode {
	var out []metrics.Episode
	for _, e := range rep.Rhythms {
		if e.Type == ecg.RhythmAF {
			out = append(out, metrics.Episode{Start: e.Start, End: e.End})
		}
	}
	return out
}

// readAnnotations reads name (an MIT annotation file) from fsys; a missing
// file is (nil, false, nil).
func readAnnotations(fsys fs.FS, name string) ([]wfdb.Annotation, bool, error) {
	f, err := fsys.Open(path.Clean(name))
	if err != nil {
		return nil, false, nil
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > maxAnnBytes {
		return nil, false, clinic.Errorf(clinic.CodeTooLarge, "ecg suite: %s is larger than %d bytes", name, maxAnnBytes)
	}
	anns, err := wfdb.ReadAnnotations(f)
	if err != nil {
		return nil, false, fmt.Errorf("annotations %s: %w", name, err)
	}
	return anns, true, nil
}

// summarize fills the report's metrics, per-record table and notes.
func summarize(rep *eval.Report, results []recordResult, beatLat []time.Duration) {
	m := rep.Metrics
	var beatRecs []metrics.RecordBeats
	var afRef, afFound, afDet, afTrue int
	var afRefDur, afOverlap int64
	var miN, miFlag, miAny, miQ, noSTEN, noSTEFlag, noMIQ, alarmN, alarmRaised, nonAFN, nonAFFlagged, nonAFEpisodes int
	byRule := map[string]int{}
	t := &eval.Table{
		Title:   "Per record: reference and detected beats, QRS Se/+P (150 ms), AF episodes (reference, found, false), critical value raised, analysis time",
		Columns: []string{"ref_beats", "det_beats", "qrs_se", "qrs_pp", "af_ref", "af_found", "af_false", "critical", "seconds", "analysis_ms"},
		Chart:   "qrs_se",
	}
	minSe, minPP := 1.0, 1.0
	for _, r := range results {
		row := eval.Row{Key: r.key, Values: make([]float64, len(t.Columns))}
		if r.scored {
			beatRecs = append(beatRecs, metrics.RecordBeats{Record: r.key, Counts: r.beats})
			se, pp := r.beats.Sensitivity(), r.beats.PositivePredictivity()
			minSe, minPP = min(minSe, se), min(minPP, pp)
			row.Values[0], row.Values[1] = float64(r.refBeats), float64(r.beats.TP+r.beats.FP)
			row.Values[2], row.Values[3] = se, pp
			m["qrs.se."+r.key], m["qrs.pp."+r.key] = se, pp
		}
		if r.af != nil {
			afRef += r.af.RefEpisodes
			afFound += r.af.RefDetected
			afDet += r.af.DetEpisodes
			afTrue += r.af.DetTrue
			afRefDur += r.af.RefDuration
			afOverlap += r.af.OverlapDuration
			row.Values[4], row.Values[5], row.Values[6] = float64(r.af.RefEpisodes), float64(r.af.RefDetected), float64(r.af.DetEpisodes-r.af.DetTrue)
			if r.nonAF && r.af.RefEpisodes == 0 {
				nonAFN++
				nonAFEpisodes += r.af.DetEpisodes
				if r.af.DetEpisodes > 0 {
					nonAFFlagged++
					rep.Notes = append(rep.Notes, fmt.Sprintf("non-AF record %s: %d AF episodes reported.", r.key, r.af.DetEpisodes))
				}
			}
		}
		if r.critical {
			row.Values[7] = 1
		}
		row.Values[8] = r.seconds
		row.Values[9] = float64(r.wall) / float64(time.Millisecond)
		t.Rows = append(t.Rows, row)
		for k, v := range r.byRule {
			byRule[k] += v
		}
		for _, a := range r.alerts {
			rep.Notes = append(rep.Notes, fmt.Sprintf("critical value on %s: %s.", r.key, a))
		}
		if r.mi {
			miN++
			if r.stFlag {
				miFlag++
			}
			if r.qFlag {
				miQ++
			}
			if r.stFlag || r.qFlag {
				miAny++
			}
			rep.Notes = append(rep.Notes, fmt.Sprintf("MI record %s: ST elevation flagged %v; Q waves of infarction flagged %v.", r.key, r.stFlag, r.qFlag))
			if r.qFlag {
				rep.Notes = append(rep.Notes, fmt.Sprintf("MI record %s: %s.", r.key, r.qWhy))
			}
		}
		if r.noSTE {
			noSTEN++
			if r.stFlag {
				noSTEFlag++
				rep.Notes = append(rep.Notes, fmt.Sprintf("record %s, whose diagnoses name no ST elevation or MI: ST elevation flagged.", r.key))
			}
			if r.qFlag {
				noMIQ++
				rep.Notes = append(rep.Notes, fmt.Sprintf("record %s, whose diagnoses name no MI: %s.", r.key, r.qWhy))
			}
		}
		if r.alarm {
			alarmN++
			if len(r.raised) > 0 {
				alarmRaised++
				rep.Notes = append(rep.Notes, fmt.Sprintf("false alarm %s raised %s.", r.key, strings.Join(r.raised, ", ")))
			} else {
				rep.Notes = append(rep.Notes, fmt.Sprintf("false alarm %s: no VT, VF or asystole critical value raised.", r.key))
			}
		}
	}
	rep.PerRecord = t
	if len(beatRecs) > 0 {
		sum := metrics.SummarizeBeats(beatRecs)
		m["qrs.records"] = float64(sum.Records)
		m["qrs.gross_sensitivity"] = sum.GrossSe
		m["qrs.gross_positive_predictivity"] = sum.GrossPP
		m["qrs.average_sensitivity"] = sum.AverageSe
		m["qrs.average_positive_predictivity"] = sum.AveragePP
		m["qrs.min_record_sensitivity"] = minSe
		m["qrs.min_record_positive_predictivity"] = minPP
		m["qrs.tp"], m["qrs.fn"], m["qrs.fp"] = float64(sum.Gross.TP), float64(sum.Gross.FN), float64(sum.Gross.FP)
	}
	var physio []metrics.RecordBeats
	for _, r := range beatRecs {
		if strings.HasPrefix(r.Record, ReferencePrefix) {
			physio = append(physio, r)
		}
	}
	var classes classCounts
	classRecs := 0
	for _, r := range results {
		if r.scored && strings.HasPrefix(r.key, ReferencePrefix) {
			classRecs++
			classes = classes.add(r.classes)
			putClassMetrics(m, r.classes, "."+r.key)
		}
	}
	if classRecs > 0 {
		m["beat_class.records"] = float64(classRecs)
		putClassMetrics(m, classes, "")
	}
	if len(physio) > 0 {
		sum := metrics.SummarizeBeats(physio)
		m["qrs.reference.records"] = float64(sum.Records)
		m["qrs.reference.gross_sensitivity"] = sum.GrossSe
		m["qrs.reference.gross_positive_predictivity"] = sum.GrossPP
	}
	if afRef > 0 || afDet > 0 {
		m["af.ref_episodes"] = float64(afRef)
		m["af.episode_sensitivity"] = ratio(afFound, afRef)
		m["af.episode_positive_predictivity"] = ratio(afTrue, afDet)
		m["af.false_episodes"] = float64(afDet - afTrue)
		if afRefDur > 0 {
			m["af.duration_sensitivity"] = float64(afOverlap) / float64(afRefDur)
		}
	}
	if nonAFN > 0 {
		m["af.non_af_records"] = float64(nonAFN)
		m["af.non_af_records_with_af"] = float64(nonAFFlagged)
		m["af.non_af_false_episodes"] = float64(nonAFEpisodes)
	}
	if miN > 0 {
		m["st.mi_records"] = float64(miN)
		m["st.mi_flagged_rate"] = ratio(miFlag, miN)
	}
	if miN > 0 {
		m["mi.records"] = float64(miN)
		m["mi.flagged_rate"] = ratio(miAny, miN)
		m["q_wave.mi_flagged_rate"] = ratio(miQ, miN)
	}
	if noSTEN > 0 {
		m["q_wave.no_mi_records"] = float64(noSTEN)
		m["q_wave.no_mi_flagged"] = float64(noMIQ)
		m["q_wave.no_mi_flagged_rate"] = ratio(noMIQ, noSTEN)
	}
	total := 0
	if rs, err := ecg.DefaultRules(); err == nil {
		for _, r := range rs.Rules {
			m["critical."+string(r.ID)] = 0 // a rule that never fired counts 0
		}
	}
	for k, v := range byRule {
		m["critical."+k] = float64(v)
		total += v
	}
	m["critical.total"] = float64(total)
	if noSTEN > 0 {
		m["st.no_ste_records"] = float64(noSTEN)
		m["st.no_ste_flagged"] = float64(noSTEFlag)
		m["st.no_ste_flagged_rate"] = ratio(noSTEFlag, noSTEN)
	}
	if alarmN > 0 {
		m["false_alarm.records"] = float64(alarmN)
		m["false_alarm.raised_count"] = float64(alarmRaised)
	}
	if len(beatLat) > 0 {
		ls := metrics.Latency(beatLat)
		m["beat_latency.p50_ms"] = ls.P50MS
		m["beat_latency.p99_ms"] = ls.P99MS
		m["beat_latency.max_ms"] = ls.MaxMS
	}
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}
