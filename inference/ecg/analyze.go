package ecg

import (
	"cmp"
	"context"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

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
// report. It shares every step with Stream: the report is what a Stream
// fed the record in 1 s chunks gives, except that measurement sees a
// second more of clean signal (analyzeHistoryS). The leads' detectors run
// on up to GOMAXPROCS goroutines, ahead of fusion; ctx is checked between
// blocks of a few seconds.
func Analyze(ctx context.Context, rec Record) (Report, error) {
	return AnalyzeWith(ctx, rec, Config{})
}

// AnalyzeWith is Analyze with the Rules, MainsHz and Clock of cfg (its
// other fields are taken from rec).
func AnalyzeWith(ctx context.Context, rec Record, cfg Config) (Report, error) {
	if err := rec.Validate(); err != nil {
		return Report{}, err
	}
	cfg = recordConfig(rec, cfg)
	// Detection may run up to two blocks (at most the record) ahead of
	// fusion (see pipeline).
	s, err := newStream(cfg, analyzeHistoryS, min(2*analyzeBlockS, float64(rec.Len())/rec.RateHz))
	if err != nil {
		return Report{}, err
	}
	n := rec.Len()
	p := newPipeline(s, rec)
	events := make([]Event, 0, n/int(rec.RateHz)*3+16)
	// The detectors of different leads share nothing, so helpers (up to
	// maxAnalyzeGoroutines−1, within GOMAXPROCS) and this goroutine run
	// them block by block while this goroutine also fuses: fusion of
	// block k overlaps detection of block k+1. Fusion replays each block
	// sub-chunk by sub-chunk exactly as Stream.Process does.
	helpers := min(s.nlead, runtime.GOMAXPROCS(0), maxAnalyzeGoroutines) - 1
	var wg sync.WaitGroup
	for range helpers {
		wg.Go(p.help)
	}
	defer func() {
		p.stop.Store(true)
		p.signal()
		wg.Wait()
		s.release()
		p.release()
	}()
	for k := range p.nblocks {
		if err := ctx.Err(); err != nil {
			return Report{}, clinic.Wrap(err, clinic.CodeUnavailable, "ECG analysis cancelled", "心电分析已取消")
		}
		// When no task is left, wait for those still running.
		for !p.detected(k) {
			if !p.claim() {
				p.wait(func() bool { return p.detected(k) || p.claimable() })
			}
		}
		outs := p.outs[k%2]
		j := 0
		p.subChunks(k, func(from, to int) {
			for l := range s.nlead {
				o := &outs[l]
				lo := 0
				if j > 0 {
					lo = o.ends[j-1]
				}
				events = s.leadResult(events, l, o.beats[lo:o.ends[j]], o.q[j], o.qat[j])
			}
			s.n += int64(to - from)
			s.syncViews()
			events = s.afterSubChunk(events, false)
			j++
		})
		p.fusedBlocks.Store(int32(k + 1))
		p.signal()
	}
	events = s.Finish(events)
	return s.report(rec, events), nil
}

// recordConfig is cfg with the fields AnalyzeWith takes from rec.
func recordConfig(rec Record, cfg Config) Config {
	cfg.RateHz = rec.RateHz
	cfg.Leads = make([]string, len(rec.Leads))
	for i, l := range rec.Leads {
		cfg.Leads[i] = l.Name
	}
	cfg.Sex, cfg.AgeYears = rec.Sex, rec.AgeYears
	if cfg.Subject == "" {
		cfg.Subject = rec.ID
	}
	return cfg
}

// analyzeHistoryS is how much more clean-signal history (seconds) fusion
// sees in Analyze than in a Stream. Analyze has always had this second
// (its detectors used to run a 1 s block ahead in longer rings), and
// measurement waits for as much history as it can get.
const analyzeHistoryS = 1.0

// Analyze feeds the record to the stream in chunks of analyzeChunkS
// seconds (as a device would send it), and runs the detectors over blocks
// of analyzeBlockChunks chunks at a time, ahead of fusion. Blocks are long
// so that the goroutines meet rarely: on a busy machine every wait for
// another thread can cost far more than the work in between.
const (
	analyzeChunkS      = 1.0
	analyzeBlockChunks = 2
	analyzeBlockS      = analyzeChunkS * analyzeBlockChunks
)

// pipeline schedules Analyze's detection tasks, one per lead and block,
// over the goroutines that take part. Block k is opened once block k−1 is
// all claimed and block k−2 is fused, so that detection stays within two
// blocks of fusion and the detector rings still hold what fusion reads;
// task (l, k) starts once (l, k−1) is done, since a detector is
// sequential.
type pipeline struct {
	s        *Stream
	rec      Record
	sub      int // samples per sub-chunk (subChunk)
	chunk    int // samples per chunk (analyzeChunkS)
	blk      int // samples per block, whole chunks
	nblocks  int
	perBlock int            // capacity of the per-sub-chunk slices of outs
	outs     [2][]leadBlock // by block parity
	// next packs the next task: block in the high 32 bits, lead in the
	// low; one counter, so a goroutine that finds a block exhausted can
	// never disturb the claims of a later block.
	next        atomic.Int64
	leadBlocks  []atomic.Int32 // per lead: blocks detected
	fusedBlocks atomic.Int32
	stop        atomic.Bool
	// A goroutine with nothing to do spins briefly, then sleeps on cond
	// until signal (after a task or a fused block, when one sleeps), so
	// that on a busy machine it does not hold a core the goroutine it
	// waits for needs.
	mu       sync.Mutex
	cond     sync.Cond
	sleepers atomic.Int32
}

// maxAnalyzeGoroutines bounds the goroutines one Analyze uses. Fusion is
// sequential and detection may run at most two blocks ahead of it, so
// more would mostly wait.
const maxAnalyzeGoroutines = 4

// spinWait is how long a waiting goroutine keeps polling (yielding to
// other goroutines in between) before it sleeps: about the time fusion
// takes over a block. A sleeping goroutine's thread idles its core, and
// waking an idle core (of a virtual machine especially) can take longer
// than the work it was waiting for; meanwhile the woken goroutine waits
// on the waker's core instead of running beside it.
const spinWait = 200 * time.Microsecond

// pipelinePool recycles pipelines, with their per-block output buffers,
// between analyses of records of the same shape.
var pipelinePool sync.Pool // of *pipeline

func newPipeline(s *Stream, rec Record) *pipeline {
	n := rec.Len()
	sub := int(subChunk * s.fs)
	chunk := int(analyzeChunkS * s.fs)
	blk := chunk * analyzeBlockChunks
	perBlock := analyzeBlockChunks*((chunk+sub-1)/sub) + 1
	if p, ok := pipelinePool.Get().(*pipeline); ok && len(p.leadBlocks) == s.nlead && p.perBlock == perBlock {
		p.s, p.rec, p.sub, p.chunk, p.blk, p.nblocks = s, rec, sub, chunk, blk, (n+blk-1)/blk
		p.next.Store(0)
		for l := range p.leadBlocks {
			p.leadBlocks[l].Store(0)
		}
		p.fusedBlocks.Store(0)
		p.stop.Store(false)
		return p
	}
	p := &pipeline{s: s, rec: rec, sub: sub, chunk: chunk, blk: blk, nblocks: (n + blk - 1) / blk, perBlock: perBlock,
		leadBlocks: make([]atomic.Int32, s.nlead)}
	p.cond.L = &p.mu
	for i := range p.outs {
		p.outs[i] = make([]leadBlock, s.nlead)
		ends := make([]int, s.nlead*perBlock)
		qs := make([]Quality, s.nlead*perBlock)
		qats := make([]int64, s.nlead*perBlock)
		for l := range p.outs[i] {
			o := &p.outs[i][l]
			o.beats = make([]Beat, 0, 8)
			o.ends = ends[l*perBlock : l*perBlock : (l+1)*perBlock]
			o.q = qs[l*perBlock : l*perBlock : (l+1)*perBlock]
			o.qat = qats[l*perBlock : l*perBlock : (l+1)*perBlock]
		}
	}
	return p
}

// release puts p back in pipelinePool once no goroutine uses it.
func (p *pipeline) release() {
	p.s, p.rec = nil, Record{}
	pipelinePool.Put(p)
}

// help runs detection tasks until every block is claimed or Analyze
// stops.
func (p *pipeline) help() {
	for !p.stop.Load() && int(p.next.Load()>>32) < p.nblocks {
		if !p.claim() {
			p.wait(func() bool {
				return p.stop.Load() || p.claimable() || int(p.next.Load()>>32) >= p.nblocks
			})
		}
	}
}

// wait returns once ready does, polling for up to spinWait before it
// sleeps.
func (p *pipeline) wait(ready func() bool) {
	var start time.Time
	for i := 0; ; i++ {
		if ready() {
			return
		}
		if i%16 == 0 {
			if i == 0 {
				start = time.Now()
			} else if time.Since(start) > spinWait {
				break
			}
		}
		runtime.Gosched()
	}
	p.mu.Lock()
	p.sleepers.Add(1)
	for !ready() {
		p.cond.Wait()
	}
	p.sleepers.Add(-1)
	p.mu.Unlock()
}

// signal wakes the sleeping goroutines to re-check their conditions. A
// goroutine counts itself as sleeping under mu before it checks its
// condition, so either it sees the change or signal sees it.
func (p *pipeline) signal() {
	if p.sleepers.Load() == 0 {
		return
	}
	p.mu.Lock()
	p.cond.Broadcast()
	p.mu.Unlock()
}

// claimable reports whether claim could find a task now.
func (p *pipeline) claimable() bool {
	v := p.next.Load()
	k, l := int(v>>32), int(int32(v))
	if k >= p.nblocks {
		return false
	}
	return l < p.s.nlead || int(p.fusedBlocks.Load()) >= k
}

// claim runs one detection task and reports whether there was one.
func (p *pipeline) claim() bool {
	for {
		v := p.next.Load()
		k, l := int(v>>32), int(int32(v))
		if k >= p.nblocks {
			return false
		}
		if l >= p.s.nlead {
			// Block k is claimed; open k+1 when allowed.
			if int(p.fusedBlocks.Load()) < k || !p.next.CompareAndSwap(v, int64(k+1)<<32) {
				return false
			}
			p.signal()
			continue
		}
		if !p.next.CompareAndSwap(v, v+1) {
			continue
		}
		// The lead's previous block may still be running elsewhere (it
		// was claimed earlier).
		p.wait(func() bool { return p.stop.Load() || int(p.leadBlocks[l].Load()) >= k })
		if int(p.leadBlocks[l].Load()) < k {
			// Analyze stopped (it panicked while running that block):
			// leave the task, so that its deferred Wait returns.
			return false
		}
		o := &p.outs[k%2][l]
		o.reset()
		d, x := p.s.det[l], p.rec.Leads[l].Samples
		p.subChunks(k, func(from, to int) { o.add(d, x[from:to]) })
		p.leadBlocks[l].Store(int32(k + 1))
		p.signal()
		return true
	}
}

// subChunks calls fn with the sample range of each sub-chunk of block k
// in order: the block's chunks, each cut into sub-chunks as
// Stream.Process cuts a chunk.
func (p *pipeline) subChunks(k int, fn func(from, to int)) {
	end := min((k+1)*p.blk, p.rec.Len())
	for c := k * p.blk; c < end; c += p.chunk {
		ce := min(c+p.chunk, end)
		for from := c; from < ce; from += p.sub {
			fn(from, min(from+p.sub, ce))
		}
	}
}

// detected reports whether every lead has been detected through block k.
func (p *pipeline) detected(k int) bool {
	for l := range p.leadBlocks {
		if int(p.leadBlocks[l].Load()) <= k {
			return false
		}
	}
	return true
}

// leadBlock is what one lead's detector gave over a block, per sub-chunk.
type leadBlock struct {
	beats []Beat
	ends  []int // len(beats) after each sub-chunk
	q     []Quality
	qat   []int64
}

func (o *leadBlock) reset() {
	o.beats, o.ends, o.q, o.qat = o.beats[:0], o.ends[:0], o.q[:0], o.qat[:0]
}

// add runs d over one sub-chunk x and keeps what it gave.
func (o *leadBlock) add(d *Detector, x []float32) {
	o.beats = d.Process(o.beats, x)
	q, at := d.Quality()
	o.ends = append(o.ends, len(o.beats))
	o.q = append(o.q, q)
	o.qat = append(o.qat, at)
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
	r.Findings = append(r.Findings, s.interpretFindings(r.Measurements, n)...)
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
