package api

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/inference/ecg"
	"github.com/yizhu-health/yizhu/store"
)

// streamKind is the record kind of a stream's saved analysis state.
const streamKind = "ecg_stream"

// StreamState is the saved analysis state of a stream: its configuration,
// how far it got, what was last reported and the last seconds of signal
// (Tail), from which any replica rebuilds the analyser to continue the
// stream where it stopped.
type StreamState struct {
	ID       string   `json:"id"`
	RateHz   float64  `json:"rate_hz"`
	Leads    []string `json:"leads"`
	Sex      string   `json:"sex,omitempty"`
	AgeYears int      `json:"age"` // -1 = unknown
	MainsHz  float64  `json:"mains_hz"`
	Source   string   `json:"source"` // websocket | nats
	Owner    string   `json:"owner,omitempty"`
	Status   string   `json:"status"` // active | ended
	// NextSeq is the sequence number of the next chunk; Samples the
	// samples per lead analysed so far.
	NextSeq int64 `json:"next_seq"`
	Samples int64 `json:"samples"`
	// LastBeat is the sample of the last beat reported (-1: none), so a
	// rebuilt analyser does not report a beat twice.
	LastBeat int64    `json:"last_beat"`
	Beats    int64    `json:"beats"`
	HRbpm    float64  `json:"hr_bpm,omitempty"`
	Rhythm   string   `json:"rhythm,omitempty"`
	Quality  []string `json:"quality"`
	Alerts   int      `json:"alerts"`
	// AlertEnds holds, per rule ID, the end sample of the stream's last
	// alert of that rule (see alertEpisodeGap).
	AlertEnds map[string]int64 `json:"alert_ends,omitempty"`
	Started   time.Time        `json:"started_at"`
	Updated   time.Time        `json:"updated_at"`
	// TailStart is the sample index of Tail's first sample; Tail holds
	// the last samples of every lead as int16 µV, lead by lead, little
	// endian (-32768 = missing).
	TailStart int64  `json:"tail_start"`
	Tail      []byte `json:"tail,omitempty"`
}

// StreamEvent is one message the server sends about a stream: to the
// device on its WebSocket and to ECG monitors.
type StreamEvent struct {
	// Type is started, beats, rhythm, quality, alert, error, ended or (to
	// monitors only) samples and streams.
	Type     string `json:"type"`
	StreamID string `json:"stream_id,omitempty"`
	Seq      *int64 `json:"seq,omitempty"`
	// NextSeq (started) is the sequence number the server expects next: 0
	// for a new stream, more when a stream is resumed.
	NextSeq *int64 `json:"next_seq,omitempty"`
	// Sample is where a rhythm or quality change starts.
	Sample int64     `json:"sample,omitempty"`
	RateHz float64   `json:"rate_hz,omitempty"`
	Beats  []BeatOut `json:"beats,omitempty"`
	HRbpm  float64   `json:"hr_bpm,omitempty"`
	Rhythm string    `json:"rhythm,omitempty"`
	// Code is signal_quality for quality events and missing chunks.
	Code    string       `json:"code,omitempty"`
	Lead    string       `json:"lead,omitempty"`
	Quality string       `json:"quality,omitempty"`
	Alert   *ECGAlert    `json:"alert,omitempty"`
	Error   *ErrorDetail `json:"error,omitempty"`
	// Data are display samples (mV) of Lead at RateHz, from Sample on;
	// SourceRateHz is the stream's own rate, in which Sample counts.
	Data         []float32     `json:"data,omitempty"`
	SourceRateHz float64       `json:"source_rate_hz,omitempty"`
	Streams      []StreamState `json:"streams,omitempty"`
}

// BeatOut is a reported beat: its R peak as a sample index from the start
// of the stream, and its label (N, V, S, Q).
type BeatOut struct {
	Sample int64  `json:"sample"`
	Label  string `json:"label"`
}

// alertEpisodeGap (seconds): an alert of a rule that starts within this
// time after the end of the stream's last alert of the same rule belongs
// to the same episode and is not raised again. An analyser rebuilt from a
// saved tail sees an episode from a later start, so exact IDs alone do not
// catch the repeat; the doctor is already alerted to the episode.
const alertEpisodeGap = 10.0

// session is the live analysis of one stream. It is not safe for
// concurrent use; its owner serialises calls with mu.
type session struct {
	mu      sync.Mutex
	st      StreamState
	version int // of the stored state record; 0 = not stored
	an      *ecg.Stream
	offset  int64 // absolute sample index of the analyser's sample 0
	events  []ecg.Event
	rr      [8]float64
	nrr     int
	// tail ring: tailCap samples per lead
	tail    [][]int16
	tailCap int
	tailN   int
	tailPos int
	// display decimation for monitors
	dispLead, dispStep, dispPhase int
	dispBuf                       []float32
}

// applyResult says what happened to a chunk.
type applyResult int

const (
	applied   applyResult = iota
	duplicate             // seq already analysed
	ahead                 // an earlier chunk is missing (strict order only)
)

// analyserConfig is the ECG core configuration of a stream state.
func (st *StreamState) analyserConfig(mains float64) ecg.Config {
	cfg := ecg.Config{RateHz: st.RateHz, Leads: slices.Clone(st.Leads), AgeYears: st.AgeYears, MainsHz: st.MainsHz, Subject: st.ID}
	if cfg.MainsHz == 0 {
		cfg.MainsHz = mains
	}
	switch st.Sex {
	case "M":
		cfg.Sex = clinic.SexMale
	case "F":
		cfg.Sex = clinic.SexFemale
	}
	return cfg
}

// newSession starts the analysis of a new stream, or rebuilds it from a
// saved state (replaying its tail without reporting anything).
func newSession(st StreamState, version int, tailSeconds, mains float64, rules *ecg.Rules, clock func() time.Time) (*session, error) {
	cfg := st.analyserConfig(mains)
	cfg.Rules, cfg.Clock = rules, clock
	an, err := ecg.New(cfg)
	if err != nil {
		return nil, err
	}
	nlead := len(st.Leads)
	s := &session{st: st, version: version, an: an, offset: st.Samples,
		tailCap: int(tailSeconds * st.RateHz), dispStep: max(1, int(math.Ceil(st.RateHz/250)))}
	s.st.Leads = slices.Clone(st.Leads)
	if len(s.st.Quality) != nlead {
		s.st.Quality = make([]string, nlead)
		for i := range s.st.Quality {
			s.st.Quality[i] = ecg.QualityGood.String()
		}
	}
	for i, l := range st.Leads {
		if l == "II" || l == "MLII" {
			s.dispLead = i
			break
		}
	}
	s.tail = make([][]int16, nlead)
	for i := range s.tail {
		s.tail[i] = make([]int16, s.tailCap)
	}
	if len(st.Tail) > 0 {
		if err := s.replayTail(st); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// replayTail feeds the saved tail through the fresh analyser so that it is
// warm when the stream continues; what it reports was reported before.
func (s *session) replayTail(st StreamState) error {
	nlead := len(st.Leads)
	if len(st.Tail)%(2*nlead) != 0 {
		return fmt.Errorf("api: stream %s: tail of %d bytes does not fit %d leads", st.ID, len(st.Tail), nlead)
	}
	n := len(st.Tail) / (2 * nlead)
	if st.TailStart+int64(n) != st.Samples {
		return fmt.Errorf("api: stream %s: tail [%d,+%d) does not end at %d", st.ID, st.TailStart, n, st.Samples)
	}
	chunk := make([][]float32, nlead)
	for l := range chunk {
		chunk[l] = make([]float32, n)
		for i := range n {
			v := int16(binary.LittleEndian.Uint16(st.Tail[2*(l*n+i):]))
			if v == math.MinInt16 {
				chunk[l][i] = float32(math.NaN())
			} else {
				chunk[l][i] = float32(v) / 1000
			}
		}
	}
	s.offset = st.TailStart
	if _, err := s.an.Process(s.events[:0], chunk); err != nil {
		return err
	}
	s.pushTail(chunk)
	return nil
}

// pushTail appends samples to the tail ring.
func (s *session) pushTail(chunk [][]float32) {
	if s.tailCap == 0 || len(chunk) == 0 {
		return
	}
	n := len(chunk[0])
	from := max(0, n-s.tailCap)
	for i := from; i < n; i++ {
		for l := range chunk {
			s.tail[l][s.tailPos] = toMicrovolt(chunk[l][i])
		}
		s.tailPos = (s.tailPos + 1) % s.tailCap
	}
	s.tailN = min(s.tailCap, s.tailN+n-from)
}

func toMicrovolt(v float32) int16 {
	switch {
	case math.IsNaN(float64(v)):
		return math.MinInt16
	case v >= 32.767:
		return math.MaxInt16
	case v <= -32.767:
		return -math.MaxInt16
	}
	return int16(math.Round(float64(v) * 1000))
}

// view returns a copy of the state that shares nothing with the session,
// without the tail.
func (s *session) view() StreamState {
	st := s.st
	st.Leads = slices.Clone(s.st.Leads)
	st.Quality = slices.Clone(s.st.Quality)
	st.AlertEnds = maps.Clone(s.st.AlertEnds)
	st.Tail = nil
	return st
}

// snapshot returns the state to save, with the tail.
func (s *session) snapshot() StreamState {
	st := s.view()
	st.TailStart = st.Samples - int64(s.tailN)
	st.Tail = make([]byte, 0, 2*s.tailN*len(s.tail))
	for l := range s.tail {
		start := (s.tailPos - s.tailN + s.tailCap) % max(1, s.tailCap)
		for i := range s.tailN {
			st.Tail = binary.LittleEndian.AppendUint16(st.Tail, uint16(s.tail[l][(start+i)%s.tailCap]))
		}
	}
	return st
}

// apply analyses one chunk. With strict order (NATS) a chunk after a
// missing one is not analysed (ahead); otherwise a gap is reported as a
// signal_quality event and the stream goes on. Chunks already analysed
// are duplicates. Events for the device and monitors go to out; new alerts
// are returned.
func (s *session) apply(m StreamMessage, strict bool, out []StreamEvent) (applyResult, []StreamEvent, []ECGAlert, error) {
	seq := *m.Seq
	if len(m.Samples) != len(s.st.Leads) {
		return applied, out, nil, invalidChunk("samples", fmt.Sprintf("chunk has %d leads, the stream has %d", len(m.Samples), len(s.st.Leads)),
			fmt.Sprintf("数据块有 %d 个导联，心电流有 %d 个", len(m.Samples), len(s.st.Leads)))
	}
	switch {
	case seq < s.st.NextSeq:
		return duplicate, out, nil, nil
	case seq > s.st.NextSeq && strict:
		return ahead, out, nil, nil
	case seq > s.st.NextSeq:
		out = append(out, StreamEvent{Type: "quality", StreamID: s.st.ID, Seq: &seq, Code: "signal_quality", Quality: "missing",
			Sample: s.st.Samples, Error: &ErrorDetail{Code: clinic.CodeInvalid,
				Message:   fmt.Sprintf("chunks %d–%d are missing", s.st.NextSeq, seq-1),
				MessageZH: fmt.Sprintf("缺少数据块 %d–%d", s.st.NextSeq, seq-1)}})
	}
	var err error
	before := s.st.Samples
	if m.Start != nil {
		if *m.Start < s.offset {
			return applied, out, nil, invalidChunk("start", "chunk starts before the stream's analysed signal", "数据块起点早于已分析信号")
		}
		s.events, err = s.an.ProcessAt(s.events[:0], *m.Start-s.offset, m.Samples)
	} else {
		s.events, err = s.an.Process(s.events[:0], m.Samples)
	}
	if err != nil {
		return applied, out, nil, err
	}
	s.st.Samples = s.offset + s.an.Samples()
	if gap := int(s.st.Samples - before - int64(len(m.Samples[0]))); gap > 0 {
		fill := make([][]float32, len(m.Samples))
		for l := range fill {
			fill[l] = make([]float32, min(gap, s.tailCap))
			for i := range fill[l] {
				fill[l][i] = float32(math.NaN())
			}
		}
		s.pushTail(fill)
		out = append(out, StreamEvent{Type: "quality", StreamID: s.st.ID, Seq: &seq, Code: "signal_quality", Quality: "missing", Sample: before})
	}
	s.pushTail(m.Samples)
	s.st.NextSeq = seq + 1
	out, alerts := s.convert(out, &seq)
	out = s.display(out, m.Samples, s.st.Samples-int64(len(m.Samples[0])))
	return applied, out, alerts, nil
}

// finish flushes the analyser at the end of a stream.
func (s *session) finish(out []StreamEvent) ([]StreamEvent, []ECGAlert) {
	s.events = s.an.Finish(s.events[:0])
	s.st.Status = "ended"
	return s.convert(out, nil)
}

// convert turns the analyser's events into stream events and alerts.
func (s *session) convert(out []StreamEvent, seq *int64) ([]StreamEvent, []ECGAlert) {
	var alerts []ECGAlert
	var beats []BeatOut
	fs := s.st.RateHz
	for _, e := range s.events {
		switch e.Kind {
		case ecg.EventBeat:
			abs := s.offset + e.Beat.Sample
			if abs <= s.st.LastBeat {
				continue
			}
			if s.st.LastBeat >= 0 {
				rr := float64(abs-s.st.LastBeat) / fs
				if rr > 0.2 && rr < 3 {
					s.rr[s.nrr%len(s.rr)] = rr
					s.nrr++
				}
			}
			s.st.LastBeat = abs
			s.st.Beats++
			beats = append(beats, BeatOut{Sample: abs, Label: string(e.Beat.Label)})
		case ecg.EventRhythm:
			if string(e.Rhythm.Type) == s.st.Rhythm {
				continue
			}
			s.st.Rhythm = string(e.Rhythm.Type)
			out = append(out, StreamEvent{Type: "rhythm", StreamID: s.st.ID, Seq: seq, Rhythm: s.st.Rhythm, Sample: s.offset + e.Rhythm.Sample})
		case ecg.EventQuality:
			q := e.Quality
			if q.Lead < 0 || q.Lead >= len(s.st.Quality) || s.st.Quality[q.Lead] == q.Quality.String() {
				continue
			}
			s.st.Quality[q.Lead] = q.Quality.String()
			out = append(out, StreamEvent{Type: "quality", StreamID: s.st.ID, Seq: seq, Code: "signal_quality",
				Lead: s.st.Leads[q.Lead], Quality: q.Quality.String(), Sample: s.offset + q.Sample})
		case ecg.EventAlert:
			if e.Alert == nil {
				continue
			}
			a := newAlert(e.Alert, s.st.ID, s.offset, fs)
			rule := string(a.RuleID)
			last, seen := s.st.AlertEnds[rule]
			if s.st.AlertEnds == nil {
				s.st.AlertEnds = map[string]int64{}
			}
			s.st.AlertEnds[rule] = max(last, a.End)
			if seen && a.Start <= last+int64(alertEpisodeGap*fs) {
				continue // the same episode, seen again by a rebuilt analyser
			}
			alerts = append(alerts, a)
			s.st.Alerts++
			out = append(out, StreamEvent{Type: "alert", StreamID: s.st.ID, Seq: seq, Alert: &a})
		}
	}
	if len(beats) > 0 {
		if n := min(s.nrr, len(s.rr)); n > 0 {
			var sum float64
			for _, v := range s.rr[:n] {
				sum += v
			}
			s.st.HRbpm = math.Round(60/(sum/float64(n))*10) / 10
		}
		out = append(out, StreamEvent{Type: "beats", StreamID: s.st.ID, Seq: seq, Beats: beats, HRbpm: s.st.HRbpm})
	}
	return out, alerts
}

// display appends a samples event with the display lead decimated to at
// most 250 Hz, for monitors.
func (s *session) display(out []StreamEvent, chunk [][]float32, first int64) []StreamEvent {
	x := chunk[s.dispLead]
	buf := s.dispBuf[:0]
	for i, v := range x {
		if (s.dispPhase+i)%s.dispStep == 0 {
			if math.IsNaN(float64(v)) {
				v = 0
			}
			buf = append(buf, v)
		}
	}
	s.dispPhase = (s.dispPhase + len(x)) % s.dispStep
	s.dispBuf = buf
	return append(out, StreamEvent{Type: "samples", StreamID: s.st.ID, Lead: s.st.Leads[s.dispLead],
		RateHz: s.st.RateHz / float64(s.dispStep), SourceRateHz: s.st.RateHz, Sample: first, Data: slices.Clone(buf)})
}

// saveState stores the session's state in tx (creating it when version is
// 0, else only if the stored version is still s.version: conflict
// otherwise) and its new alerts.
func (e *ECG) saveState(ctx context.Context, tx store.Store, s *session, alerts []ECGAlert) ([]ECGAlert, error) {
	st := s.snapshot()
	st.Updated = e.now().UTC()
	body, err := json.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("api.ECG: encode stream state: %w", err)
	}
	r := store.Record{Kind: streamKind, ID: st.ID, Subject: st.Owner, Version: s.version, Body: body}
	if err := tx.PutRecord(ctx, &r); err != nil {
		return nil, err
	}
	s.version = r.Version
	var fresh []ECGAlert
	for _, a := range alerts {
		ok, err := e.hub.Save(ctx, tx, a)
		if err != nil {
			return nil, err
		}
		if ok {
			fresh = append(fresh, a)
		}
	}
	return fresh, nil
}

// loadState returns the saved state of a stream and its record version.
func (e *ECG) loadState(ctx context.Context, id string) (StreamState, int, error) {
	st, r, err := loadJSON[StreamState](ctx, e.cfg.Store, streamKind, id, "", "")
	return st, r.Version, err
}

// stateFromStart builds the initial state of a stream from its start
// message.
func stateFromStart(m StreamMessage, id, source, owner string, now time.Time) StreamState {
	st := StreamState{ID: id, RateHz: m.RateHz, Leads: slices.Clone(m.Leads), Sex: m.Sex, AgeYears: -1, MainsHz: m.MainsHz,
		Source: source, Owner: owner, Status: "active", LastBeat: -1, Started: now.UTC(), Updated: now.UTC()}
	if m.AgeYears != nil {
		st.AgeYears = *m.AgeYears
	}
	return st
}

// sameConfig reports whether a start message describes the saved stream.
func sameConfig(st StreamState, m StreamMessage) bool {
	return st.RateHz == m.RateHz && slices.Equal(st.Leads, m.Leads)
}

// monitor fans stream events out to ECG monitor pages and keeps the list
// of active streams. It is safe for concurrent use.
type monitor struct {
	mu     sync.Mutex
	subs   map[int]chan StreamEvent
	nextID int
	active map[string]StreamState
}

func newMonitor() *monitor {
	return &monitor{subs: map[int]chan StreamEvent{}, active: map[string]StreamState{}}
}

// watching reports whether any monitor is subscribed.
func (m *monitor) watching() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.subs) > 0
}

// publish sends events to every monitor; a monitor that is behind loses
// events rather than slowing the stream.
func (m *monitor) publish(evs []StreamEvent) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, ch := range m.subs {
		for _, ev := range evs {
			if ev.Type == "error" {
				continue
			}
			select {
			case ch <- ev:
			default:
			}
		}
	}
}

// setActive records a stream as active (st.Status "active") or removes it.
func (m *monitor) setActive(st StreamState) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if st.Status == "active" {
		st.Tail = nil
		m.active[st.ID] = st
	} else {
		delete(m.active, st.ID)
	}
}

func (m *monitor) subscribe() (<-chan StreamEvent, []StreamState, func()) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ch := make(chan StreamEvent, 512)
	id := m.nextID
	m.nextID++
	m.subs[id] = ch
	var list []StreamState
	for _, st := range m.active {
		list = append(list, st)
	}
	slices.SortFunc(list, func(a, b StreamState) int { return a.Started.Compare(b.Started) })
	return ch, list, func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		delete(m.subs, id)
	}
}
