package ecg

import (
	"math"
	"time"
	"unsafe"

	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/inference/ecg/dsp"
)

// Config configures a Stream.
type Config struct {
	// RateHz is the sampling rate, 125 to 1000 Hz.
	RateHz float64
	// Leads names the leads, in the order of the chunks given to Process
	// ("I", "II", …, "V6"; "MLII" counts as II).
	Leads []string
	// Sex and AgeYears select the STEMI thresholds in V2–V3; AgeYears < 0
	// means unknown.
	Sex      clinic.Sex
	AgeYears int
	// MainsHz is the powerline frequency to suppress: 50 (default) or 60.
	MainsHz float64
	// Rules is the critical-value rule set; nil means DefaultRules.
	Rules *Rules
	// Subject is the stream or record ID put on alerts.
	Subject string
	// Clock gives Alert.RaisedAt; nil means time.Now.
	Clock func() time.Time
}

// EventKind says what an Event carries.
type EventKind uint8

// Event kinds.
const (
	EventBeat    EventKind = iota + 1 // a labelled beat (fused over leads)
	EventRhythm                       // the rhythm changed
	EventQuality                      // a lead's signal quality changed
	EventAlert                        // a critical value (危急值)
)

// Event is one output of a Stream.
type Event struct {
	Kind    EventKind
	Beat    Beat          // EventBeat
	Rhythm  RhythmChange  // EventRhythm
	Quality QualityChange // EventQuality
	Alert   *Alert        // EventAlert
}

// RhythmChange marks the start of a rhythm at Sample.
type RhythmChange struct {
	Sample int64
	Type   Rhythm
}

// QualityChange marks a lead's quality class from Sample on.
type QualityChange struct {
	Lead    int
	Sample  int64
	Quality Quality
}

// Stream and fusion constants (seconds).
const (
	fuseWindow   = 0.10 // beats of different leads this close are one beat
	fuseSlack    = 0.05 // fusion waits MaxLatency+fuseSlack after a cluster's first R
	subChunk     = 0.05
	agreeRate    = 1.0 / 8 // update rate of a lead's agreement with the others
	tmplPre      = 0.30    // template span before R
	tmplPost     = 0.60    // and after
	fusionShare  = 0.4     // share of usable leads that must agree
	maxClusters  = 32
	historyBeats = 32
)

// Stream is the streaming analyser of one multi-lead ECG: per-lead
// detectors, multi-lead fusion, beat labels, templates and measurements,
// rhythm and critical values. Its state is bounded (StateBytes) and does not
// grow with the length of the stream. It is not safe for concurrent use.
type Stream struct {
	cfg   Config
	fs    float64
	rules *Rules
	clock func() time.Time
	nlead int
	canon []string

	det   []*Detector
	clean []cleaner
	n     int64 // samples processed per lead

	beatBuf  []Beat
	clusters []cluster
	lastQ    []Quality
	agree    []float32 // per lead: recent share of its beats other leads confirmed
	lastQAt  []int64

	lastFused int64
	hist      beatHistory
	pend      []int64 // R samples waiting for the template update
	shift     int     // alignment of the last beat to the template, samples
	fid       int64   // alignment fiducial of the last beat
	pendLbl   []Label
	tmpl      templates
	meas      Measurements
	measOK    bool
	sinceMeas int

	rh     rhythmState
	vfBuf  []float32
	alerts alertState
}

// cleaner gives the stream read access to a detector's clean and
// measurement signals: views of the detector's rings as of the stream's
// position (syncViews), so that what the stream reads does not depend on
// how far ahead the detector runs (Analyze runs it ahead on another
// goroutine). Detection, fusion, QRS width, rhythm and AV-block analysis
// read ring; the templates (and through them ST, J, Q waves and
// intervals), and the beat-to-template comparisons, read meas.
type cleaner struct {
	ring *dsp.Ring // clean signal (second-order 0.05 Hz high-pass)
	meas *dsp.Ring // measurement signal (first-order 0.05 Hz high-pass)
}

type cluster struct {
	first, ref int64
	refLead    int
	votes      uint32 // bit per lead
}

// New returns a Stream. It returns an invalid *clinic.Error for a rate
// outside [MinRateHz, MaxRateHz], no leads or more than MaxLeads, a mains
// frequency other than 50 or 60, or a bad rule set.
func New(cfg Config) (*Stream, error) { return newStream(cfg, 0, 0) }

// newStream is New with history seconds more clean-signal history than
// a Stream's and detector rings that let the detectors run ahead seconds
// in front of the stream's position, taken from ringPool when ahead > 0
// (give them back with release).
func newStream(cfg Config, history, ahead float64) (*Stream, error) {
	if !(cfg.RateHz >= MinRateHz && cfg.RateHz <= MaxRateHz) {
		return nil, clinic.NewError(clinic.CodeInvalid, "sampling_rate", "sampling rate must be between 125 and 1000 Hz", "采样率须在 125–1000 Hz 之间")
	}
	if len(cfg.Leads) == 0 || len(cfg.Leads) > MaxLeads {
		return nil, clinic.NewError(clinic.CodeInvalid, "leads", "a stream needs 1 to 16 leads", "心电流须含 1–16 个导联")
	}
	if cfg.MainsHz == 0 {
		cfg.MainsHz = 50
	}
	if cfg.MainsHz != 50 && cfg.MainsHz != 60 {
		return nil, clinic.NewError(clinic.CodeInvalid, "mains_hz", "mains frequency must be 50 or 60 Hz", "工频须为 50 或 60 Hz")
	}
	rules := cfg.Rules
	if rules == nil {
		var err error
		if rules, err = DefaultRules(); err != nil {
			return nil, err
		}
	}
	clock := cfg.Clock
	if clock == nil {
		clock = time.Now
	}
	fs := cfg.RateHz
	s := &Stream{cfg: cfg, fs: fs, rules: rules, clock: clock, nlead: len(cfg.Leads), lastFused: -1 << 40}
	for i, name := range cfg.Leads {
		d, err := NewDetector(DetectorConfig{RateHz: fs, Lead: i, MainsHz: cfg.MainsHz, history: history, ahead: ahead, pooled: ahead > 0})
		if err != nil {
			s.release()
			return nil, err
		}
		s.det = append(s.det, d)
		s.canon = append(s.canon, canonicalLead(name))
		views := new([2]dsp.Ring) // one allocation for both views
		c := cleaner{ring: &views[0], meas: &views[1]}
		d.xb.View(c.ring, 0, d.viewCap)
		d.xm.View(c.meas, 0, d.viewCap)
		s.clean = append(s.clean, c)
	}
	s.lastQ = make([]Quality, s.nlead)
	s.lastQAt = make([]int64, s.nlead)
	s.agree = make([]float32, s.nlead)
	for l := range s.agree {
		s.agree[l] = 1
	}
	s.beatBuf = make([]Beat, 0, 16)
	s.clusters = make([]cluster, 0, maxClusters)
	s.pend = make([]int64, 0, 16)
	s.pendLbl = make([]Label, 0, 16)
	s.tmpl = newTemplates(s.nlead, fs)
	s.rh = newRhythmState()
	s.vfBuf = make([]float32, int(vfWindowS*fs))
	s.alerts = newAlertState(rules)
	return s, nil
}

// syncViews points the clean- and measurement-signal views at the
// stream's position: what each detector's rings held when it had
// processed s.n samples, limited to the stream's history.
func (s *Stream) syncViews() {
	for l, d := range s.det {
		d.xb.View(s.clean[l].ring, s.n, d.viewCap)
		d.xm.View(s.clean[l].meas, s.n, d.viewCap)
	}
}

// release gives pooled detector buffers back (see newStream); the
// stream must not be used afterwards.
func (s *Stream) release() {
	for _, d := range s.det {
		d.release()
	}
}

// StateBytes returns the bytes of analysis state the stream holds.
func (s *Stream) StateBytes() int {
	b := 0
	for i := range s.det {
		b += s.det[i].StateBytes() + 16 + 2*int(unsafe.Sizeof(dsp.Ring{})) // detector; pointers to and views of the clean and measurement signals
	}
	b += 4*(cap(s.rh.av.buf)+cap(s.rh.av.z)) + int(unsafe.Sizeof(avState{}))
	b += s.tmpl.bytes() + 4*len(s.vfBuf) + cap(s.clusters)*24 + cap(s.beatBuf)*40 + historyBeats*24 + 1024
	return b
}

// StateBytesPerLead returns StateBytes divided by the number of leads.
func (s *Stream) StateBytesPerLead() int { return s.StateBytes() / s.nlead }

// Samples returns the samples per lead processed so far; the next chunk
// starts at this index.
func (s *Stream) Samples() int64 { return s.n }

// Process analyses one chunk, chunk[i] holding the next samples of lead i
// in mV (all the same length), and appends the events it produced to dst.
// It returns an invalid *clinic.Error, and processes nothing, when the
// chunk has the wrong number of leads or ragged leads.
func (s *Stream) Process(dst []Event, chunk [][]float32) ([]Event, error) {
	if len(chunk) != s.nlead {
		return dst, clinic.NewError(clinic.CodeInvalid, "chunk", "chunk lead count does not match the stream", "数据块导联数与心电流不符")
	}
	n := len(chunk[0])
	for _, c := range chunk {
		if len(c) != n {
			return dst, clinic.NewError(clinic.CodeInvalid, "chunk", "chunk leads have different lengths", "数据块各导联长度不一致")
		}
	}
	step := int(subChunk * s.fs)
	for off := 0; off < n; off += step {
		end := min(off+step, n)
		for l := range s.nlead {
			dst = s.lead(dst, l, chunk[l][off:end])
		}
		s.n += int64(end - off)
		s.syncViews()
		dst = s.afterSubChunk(dst, false)
	}
	return dst, nil
}

// ProcessAt is Process for a chunk that starts at sample index start. A
// chunk that starts before Samples() (out of order or duplicate) is an
// invalid *clinic.Error; a gap of up to 10 s is filled with NaN (lead-off)
// so that timing stays right, and a longer gap is invalid.
func (s *Stream) ProcessAt(dst []Event, start int64, chunk [][]float32) ([]Event, error) {
	switch {
	case start < s.n:
		return dst, clinic.NewError(clinic.CodeInvalid, "start", "chunk is out of order or repeated", "数据块顺序错误或重复")
	case start > s.n+int64(10*s.fs):
		return dst, clinic.NewError(clinic.CodeInvalid, "start", "gap in the stream longer than 10 s", "心电流中断超过 10 秒")
	}
	if gap := int(start - s.n); gap > 0 {
		nan := float32(math.NaN())
		fill := make([][]float32, s.nlead)
		for l := range fill {
			fill[l] = make([]float32, gap)
			for i := range fill[l] {
				fill[l][i] = nan
			}
		}
		var err error
		if dst, err = s.Process(dst, fill); err != nil {
			return dst, err
		}
	}
	return s.Process(dst, chunk)
}

func (s *Stream) lead(dst []Event, l int, x []float32) []Event {
	d := s.det[l]
	s.beatBuf = d.Process(s.beatBuf[:0], x)
	q, at := d.Quality()
	return s.leadResult(dst, l, s.beatBuf, q, at)
}

// leadResult takes a lead's beats and quality after a sub-chunk: the
// beats vote for fusion and a quality change becomes an event.
func (s *Stream) leadResult(dst []Event, l int, beats []Beat, q Quality, at int64) []Event {
	for _, b := range beats {
		s.vote(b)
	}
	if at != s.lastQAt[l] || q != s.lastQ[l] {
		if q != s.lastQ[l] {
			dst = append(dst, Event{Kind: EventQuality, Quality: QualityChange{Lead: l, Sample: at, Quality: q}})
		}
		s.lastQ[l], s.lastQAt[l] = q, at
		if l == s.nlead-1 {
			s.blockQuality(at)
		}
	}
	return dst
}

// vote adds a lead's beat to the cluster it belongs to.
func (s *Stream) vote(b Beat) {
	win := int64(fuseWindow * s.fs)
	for i := range s.clusters {
		c := &s.clusters[i]
		if abs64(b.Sample-c.ref) <= win {
			c.votes |= 1 << uint(b.Lead)
			// The reference (fiducial) lead is the one other leads
			// confirm most; among equals, the lowest index.
			if da := s.agree[b.Lead] - s.agree[c.refLead]; da > 0.1 || (da > -0.1 && b.Lead < c.refLead) {
				c.ref, c.refLead = b.Sample, b.Lead
			}
			c.first = min(c.first, b.Sample)
			return
		}
	}
	if len(s.clusters) == cap(s.clusters) {
		s.clusters = s.clusters[1:]
	}
	s.clusters = append(s.clusters, cluster{first: b.Sample, ref: b.Sample, refLead: b.Lead, votes: 1 << uint(b.Lead)})
}

// usableLeads returns the mask and count of leads not lead-off.
func (s *Stream) usableLeads() (uint32, int) {
	var m uint32
	k := 0
	for l, q := range s.lastQ {
		if q != QualityLeadOff {
			m |= 1 << uint(l)
			k++
		}
	}
	return m, k
}

// afterSubChunk fuses the clusters old enough that every lead has voted
// on them. A cluster becomes a beat when the agreement-weighted votes of
// the usable leads reach fusionShare of their total weight: a lead whose
// detections other leads keep confirming counts fully, one that reports
// many beats no other lead sees (muscle noise, tall T waves) counts less,
// so it cannot add beats on its own (the idea of bSQI, Li, Mark & Clifford,
// Physiol Meas 2008;29:15–32).
func (s *Stream) afterSubChunk(dst []Event, final bool) []Event {
	horizon := s.n - int64((MaxLatency+fuseSlack)*s.fs)
	mask, usable := s.usableLeads()
	var total float32
	for l := range s.nlead {
		if mask&(1<<uint(l)) != 0 {
			total += s.agree[l] * s.agree[l]
		}
	}
	for i := 1; i < len(s.clusters); i++ {
		for j := i; j > 0 && s.clusters[j].ref < s.clusters[j-1].ref; j-- {
			s.clusters[j], s.clusters[j-1] = s.clusters[j-1], s.clusters[j]
		}
	}
	keep := s.clusters[:0]
	for _, c := range s.clusters {
		if !final && c.first >= horizon {
			keep = append(keep, c)
			continue
		}
		v := c.votes & mask
		var w float32
		for l := range s.nlead {
			if v&(1<<uint(l)) != 0 {
				w += s.agree[l] * s.agree[l]
			}
		}
		if usable >= 2 {
			confirmed := float32(0)
			if popcount(v) >= 2 {
				confirmed = 1
			}
			for l := range s.nlead {
				if v&(1<<uint(l)) != 0 {
					s.agree[l] += agreeRate * (confirmed - s.agree[l])
				}
			}
		}
		if usable == 0 || c.ref-s.lastFused <= int64(refractory*s.fs) {
			continue
		}
		if w < fusionShare*total-1e-6 && !s.onTime(c.ref) {
			continue
		}
		dst = s.fused(dst, Beat{Sample: c.ref, Reported: s.n, Lead: c.refLead})
	}
	s.clusters = keep
	dst = s.flushPending(dst, final)
	dst = s.rhythmTick(dst)
	return dst
}

// onTime reports whether a beat at r falls where the recent rhythm
// expects the next one (0.8 to 1.5 mean RR after the last beat): a
// weakly supported cluster is accepted only then, so a lead that other
// leads stopped confirming can still fill in beats they miss, but not add
// noise or T waves between beats.
func (s *Stream) onTime(r int64) bool {
	hr := s.recentHR(8)
	if hr <= 0 || s.hist.n < 4 {
		return false
	}
	rr := float64(r-s.lastFused) * 60 / s.fs
	mean := 60 / hr * 60
	return rr >= 0.8*mean && rr <= 1.5*mean
}

func popcount(v uint32) int {
	n := 0
	for v != 0 {
		v &= v - 1
		n++
	}
	return n
}

// Finish flushes the beats still waiting for fusion or measurement at the
// end of a record and appends the resulting events. The stream can still
// be used afterwards, but beats reported by Finish are not re-reported.
func (s *Stream) Finish(dst []Event) []Event {
	dst = s.afterSubChunk(dst, true)
	dst = s.closeRhythm(dst)
	return dst
}
