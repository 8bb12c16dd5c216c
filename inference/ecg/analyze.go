package ecg

import (
	"cmp"
	"context"
	"runtime"
	"slices"
	"sync"

	"github.com/yizhu-health/yizhu/clinic"
)

// Report is the structured pre-read (预读报告) of one record. It is a draft
// for the reading doctor, never a final diagnosis.
type Report struct {
	ID      string   `json:"id"`
	RateHz  float64  `json:"rate_hz"`
	Samples int      `json:"samples"`
	Leads   []string `json:"leads"`
	// Beats are the fused beats; Sample is an index in the record's own
	// sampling.
	Beats []Beat `json:"beats"`
	// Rhythms are consecutive episodes; End is exclusive.
	Rhythms      []Episode     `json:"rhythms"`
	Measurements *Measurements `json:"measurements,omitempty"`
	Findings     []Finding     `json:"findings"`
	Alerts       []*Alert      `json:"alerts"`
	// Critical is true when any critical-value rule fired.
	Critical bool `json:"critical"`
	// Draft is always true: the report is machine output awaiting a
	// clinician (DESIGN.md principle 4).
	Draft bool `json:"draft"`
}

// Episode is a stretch of one rhythm, in samples [Start, End).
type Episode struct {
	Start int64  `json:"start"`
	End   int64  `json:"end"`
	Type  Rhythm `json:"type"`
}

// Finding is one observation of the pre-read with the stretch and leads it
// concerns.
type Finding struct {
	Code     string          `json:"code"`
	Title    string          `json:"title"`
	TitleZH  string          `json:"title_zh"`
	Severity clinic.Severity `json:"severity"`
	Start    int64           `json:"start"`
	End      int64           `json:"end"`
	Leads    []string        `json:"leads,omitempty"`
	Value    float64         `json:"value,omitempty"`
	Unit     string          `json:"unit,omitempty"`
}

// Finding thresholds. Pause ≥ 2 s is the usual Holter reporting limit;
// first-degree AV block PR > 200 ms, wide QRS ≥ 120 ms and prolonged QTc ≥
// 450 ms (men) / 460 ms (women) follow the AHA/ACCF/HRS 2009
// recommendations for the standardization and interpretation of the ECG;
// ST depression ≥ 0.05 mV in two contiguous leads follows the 4th UDMI.
const (
	pauseFindingS  = 2.0
	prLongMS       = 200
	qrsWideMS      = 120
	qtcLongMaleMS  = 450
	qtcLongFemale  = 460
	stDepressionMV = -0.05
)

// Analyze runs the streaming analyser over a whole record and returns its
// report. It shares every step with Stream; the record is fed in 1 s
// chunks and ctx is checked between them.
func Analyze(ctx context.Context, rec Record) (Report, error) {
	return AnalyzeWith(ctx, rec, Config{})
}

// AnalyzeWith is Analyze with the Rules, MainsHz and Clock of cfg (its
// other fields are taken from rec).
func AnalyzeWith(ctx context.Context, rec Record, cfg Config) (Report, error) {
	if err := rec.Validate(); err != nil {
		return Report{}, err
	}
	cfg.RateHz = rec.RateHz
	cfg.Leads = make([]string, len(rec.Leads))
	for i, l := range rec.Leads {
		cfg.Leads[i] = l.Name
	}
	cfg.Sex, cfg.AgeYears = rec.Sex, rec.AgeYears
	if cfg.Subject == "" {
		cfg.Subject = rec.ID
	}
	s, err := newStream(cfg, analyzeBlockS)
	if err != nil {
		return Report{}, err
	}
	n := rec.Len()
	step := int(analyzeBlockS * rec.RateHz)
	sub := int(subChunk * s.fs)
	events := make([]Event, 0, n/int(rec.RateHz)*3+16)
	outs := make([]leadBlock, s.nlead)
	perBlock := (step+sub-1)/sub + 1
	ends := make([]int, s.nlead*perBlock)
	qs := make([]Quality, s.nlead*perBlock)
	qats := make([]int64, s.nlead*perBlock)
	for l := range outs {
		o := &outs[l]
		o.beats = make([]Beat, 0, 8)
		o.ends = ends[l*perBlock : l*perBlock : (l+1)*perBlock]
		o.q = qs[l*perBlock : l*perBlock : (l+1)*perBlock]
		o.qat = qats[l*perBlock : l*perBlock : (l+1)*perBlock]
	}
	// The detectors of different leads share nothing: workers (at most
	// GOMAXPROCS, this goroutine among them) run them over each block in
	// parallel, keeping what each sub-chunk gave; fusion and the rest are
	// then replayed sub-chunk by sub-chunk exactly as Process does (the
	// detector rings hold the extra block).
	workers := min(s.nlead, runtime.GOMAXPROCS(0))
	var off, end int
	detect := func(w int) {
		for l := w; l < s.nlead; l += workers {
			outs[l].run(s.det[l], rec.Leads[l].Samples[off:end], sub)
		}
	}
	start := make(chan struct{}, workers)
	done := make(chan struct{}, workers)
	var wg sync.WaitGroup
	for w := 1; w < workers; w++ {
		wg.Go(func() {
			for range start {
				detect(w)
				done <- struct{}{}
			}
		})
	}
	defer func() {
		close(start)
		wg.Wait()
	}()
	for off = 0; off < n; off += step {
		if err := ctx.Err(); err != nil {
			return Report{}, clinic.Wrap(err, clinic.CodeUnavailable, "ECG analysis cancelled", "心电分析已取消")
		}
		end = min(off+step, n)
		for w := 1; w < workers; w++ {
			start <- struct{}{}
		}
		detect(0)
		for w := 1; w < workers; w++ {
			<-done
		}
		for k, from := 0, off; from < end; k, from = k+1, from+sub {
			to := min(from+sub, end)
			for l := range s.nlead {
				o := &outs[l]
				lo := 0
				if k > 0 {
					lo = o.ends[k-1]
				}
				events = s.leadResult(events, l, o.beats[lo:o.ends[k]], o.q[k], o.qat[k])
			}
			s.n += int64(to - from)
			events = s.afterSubChunk(events, false)
		}
	}
	events = s.Finish(events)
	return s.report(rec, events), nil
}

// analyzeBlockS is the block (seconds) Analyze runs the detectors over
// at a time, ahead of fusion.
const analyzeBlockS = 1.0

// leadBlock is what one lead's detector gave over a block, per sub-chunk.
type leadBlock struct {
	beats []Beat
	ends  []int // len(beats) after each sub-chunk
	q     []Quality
	qat   []int64
}

func (o *leadBlock) run(d *Detector, x []float32, sub int) {
	o.beats, o.ends, o.q, o.qat = o.beats[:0], o.ends[:0], o.q[:0], o.qat[:0]
	for from := 0; from < len(x); from += sub {
		o.beats = d.Process(o.beats, x[from:min(from+sub, len(x))])
		q, at := d.Quality()
		o.ends = append(o.ends, len(o.beats))
		o.q = append(o.q, q)
		o.qat = append(o.qat, at)
	}
}

// report assembles the Report from the events of a whole record.
func (s *Stream) report(rec Record, events []Event) Report {
	n := int64(rec.Len())
	r := Report{ID: rec.ID, RateHz: rec.RateHz, Samples: rec.Len(), Leads: s.cfg.Leads, Draft: true,
		Beats: []Beat{}, Rhythms: []Episode{}, Findings: []Finding{}, Alerts: []*Alert{}}
	var changes []RhythmChange
	type qseg struct {
		start int64
		q     Quality
	}
	open := make([]qseg, s.nlead)
	for _, e := range events {
		switch e.Kind {
		case EventBeat:
			r.Beats = append(r.Beats, e.Beat)
		case EventRhythm:
			changes = append(changes, e.Rhythm)
		case EventAlert:
			r.Alerts = append(r.Alerts, e.Alert)
		case EventQuality:
			q := e.Quality
			if o := open[q.Lead]; o.q != QualityGood {
				r.Findings = append(r.Findings, qualityFinding(s.cfg.Leads[q.Lead], o.q, o.start, q.Sample))
			}
			open[q.Lead] = qseg{q.Sample, q.Quality}
		}
	}
	for l, o := range open {
		if o.q != QualityGood {
			r.Findings = append(r.Findings, qualityFinding(s.cfg.Leads[l], o.q, o.start, n))
		}
	}
	slices.SortStableFunc(changes, func(a, b RhythmChange) int { return cmp.Compare(a.Sample, b.Sample) })
	for i, c := range changes {
		end := n
		if i+1 < len(changes) {
			end = changes[i+1].Sample
		}
		if end <= c.Sample {
			continue
		}
		if k := len(r.Rhythms); k > 0 && r.Rhythms[k-1].Type == c.Type {
			r.Rhythms[k-1].End = end
			continue
		}
		r.Rhythms = append(r.Rhythms, Episode{Start: max(0, c.Sample), End: end, Type: c.Type})
	}
	r.Critical = len(r.Alerts) > 0
	if s.measOK {
		m := s.meas
		r.Measurements = &m
	}
	r.Findings = append(r.Findings, s.beatFindings(r.Beats)...)
	r.Findings = append(r.Findings, s.rhythmFindings(r.Rhythms)...)
	for _, a := range r.Alerts {
		if a.RuleID == avBlockRuleID {
			r.Findings = append(r.Findings, Finding{Code: "third_degree_av_block", Title: "third-degree (complete) AV block",
				TitleZH: "三度房室传导阻滞", Severity: clinic.SeverityCritical, Start: a.Start, End: a.End, Leads: a.Leads,
				Value: a.Values["pr_range_ms"], Unit: "ms"})
		}
	}
	if r.Measurements != nil {
		r.Findings = append(r.Findings, s.measureFindings(*r.Measurements, n)...)
	}
	return r
}

func qualityFinding(lead string, q Quality, start, end int64) Finding {
	f := Finding{Code: "signal_quality", Severity: clinic.SeverityMinor, Start: start, End: end, Leads: []string{lead}}
	if q == QualityLeadOff {
		f.Title, f.TitleZH = "lead off, flat or clipped signal", "导联脱落、信号平直或饱和"
	} else {
		f.Title, f.TitleZH = "noisy signal", "信号噪声大"
	}
	return f
}

func (s *Stream) beatFindings(beats []Beat) []Finding {
	var out []Finding
	fs := s.fs
	var nv, ns int
	for i, b := range beats {
		switch b.Label {
		case LabelVentricular:
			nv++
		case LabelSupraventricular:
			ns++
		}
		if i > 0 {
			rr := float64(b.Sample-beats[i-1].Sample) / fs
			if rr >= pauseFindingS {
				out = append(out, Finding{Code: "pause", Title: "pause", TitleZH: "长 RR 间期/停搏", Severity: clinic.SeverityMajor,
					Start: beats[i-1].Sample, End: b.Sample, Value: round3(rr), Unit: "s"})
			}
		}
	}
	if nv > 0 {
		out = append(out, Finding{Code: "ventricular_ectopy", Title: "ventricular ectopic beats", TitleZH: "室性早搏", Severity: clinic.SeverityMinor, Value: float64(nv), Unit: "beats"})
	}
	if ns > 0 {
		out = append(out, Finding{Code: "supraventricular_ectopy", Title: "supraventricular ectopic beats", TitleZH: "室上性早搏", Severity: clinic.SeverityMinor, Value: float64(ns), Unit: "beats"})
	}
	return out
}

var rhythmTitles = map[Rhythm][3]string{
	RhythmAF:         {"atrial fibrillation/flutter", "心房颤动/扑动", string(clinic.SeverityMajor)},
	RhythmVT:         {"ventricular tachycardia", "室性心动过速", string(clinic.SeverityCritical)},
	RhythmVF:         {"ventricular fibrillation/flutter", "心室颤动/扑动", string(clinic.SeverityCritical)},
	RhythmAsystole:   {"asystole", "心脏停搏", string(clinic.SeverityCritical)},
	RhythmBigeminy:   {"ventricular bigeminy", "室性早搏二联律", string(clinic.SeverityMinor)},
	RhythmTrigeminy:  {"ventricular trigeminy", "室性早搏三联律", string(clinic.SeverityMinor)},
	RhythmSinusBrady: {"sinus bradycardia", "窦性心动过缓", string(clinic.SeverityInfo)},
	RhythmSinusTachy: {"sinus tachycardia", "窦性心动过速", string(clinic.SeverityInfo)},
}

func (s *Stream) rhythmFindings(eps []Episode) []Finding {
	var out []Finding
	for _, e := range eps {
		t, ok := rhythmTitles[e.Type]
		if !ok {
			continue
		}
		out = append(out, Finding{Code: string(e.Type), Title: t[0], TitleZH: t[1], Severity: clinic.Severity(t[2]),
			Start: e.Start, End: e.End, Value: round3(float64(e.End-e.Start) / s.fs), Unit: "s"})
	}
	return out
}

func (s *Stream) measureFindings(m Measurements, n int64) []Finding {
	var out []Finding
	add := func(code, title, zh string, sev clinic.Severity, v float64, unit string, leads []string) {
		out = append(out, Finding{Code: code, Title: title, TitleZH: zh, Severity: sev, Start: 0, End: n, Value: v, Unit: unit, Leads: leads})
	}
	if m.PRms > prLongMS {
		add("first_degree_av_block", "PR interval over 200 ms (first-degree AV block)", "PR 间期延长(一度房室传导阻滞)", clinic.SeverityMinor, m.PRms, "ms", nil)
	}
	if m.QRSms >= qrsWideMS {
		add("wide_qrs", "QRS duration 120 ms or more", "QRS 波增宽", clinic.SeverityMinor, m.QRSms, "ms", nil)
	}
	limit := float64(qtcLongMaleMS)
	if s.cfg.Sex == clinic.SexFemale {
		limit = qtcLongFemale
	}
	if m.QTcBazettMs >= limit {
		add("long_qtc", "prolonged QTc (Bazett)", "QTc 间期延长", clinic.SeverityMajor, m.QTcBazettMs, "ms", nil)
	}
	if r := s.rules.rule("st_elevation"); r != nil {
		if leads, _ := stemi(m.ST, r, s.cfg.Sex, s.cfg.AgeYears, s.goodMask()); len(leads) > 0 {
			add("st_elevation", "ST elevation in contiguous leads", "相邻导联 ST 段抬高", clinic.SeverityCritical, 0, "", leads)
		}
	}
	var dep []string
	for _, st := range m.ST {
		if st.STmV <= stDepressionMV && canonicalLead(st.Lead) != "aVR" {
			dep = append(dep, st.Lead)
		}
	}
	if len(dep) >= 2 {
		add("st_depression", "ST depression of 0.05 mV or more", "ST 段压低", clinic.SeverityMajor, 0, "", dep)
	}
	return out
}
