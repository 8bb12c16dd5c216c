package ecg_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/inference/ecg"
	"github.com/yizhu-health/yizhu/inference/ecg/ecgsynth"
)

var twelve = []string{"I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"}

func record(t testing.TB, cfg ecgsynth.Config) (ecg.Record, ecgsynth.Truth) {
	t.Helper()
	leads, truth := ecgsynth.Generate(cfg)
	names := cfg.Leads
	if len(names) == 0 {
		names = []string{"II"}
	}
	rec := ecg.Record{ID: "synth", RateHz: cfg.RateHz, AgeYears: -1}
	for i, x := range leads {
		rec.Leads = append(rec.Leads, ecg.Lead{Name: names[i], Samples: x})
	}
	return rec, truth
}

func truthSamples(tr ecgsynth.Truth) []int64 {
	var s []int64
	for _, b := range tr.Beats {
		s = append(s, b.Sample)
	}
	return s
}

func beatSamples(bs []ecg.Beat) []int64 {
	s := make([]int64, len(bs))
	for i, b := range bs {
		s[i] = b.Sample
	}
	return s
}

func TestDetectorAcrossRates(t *testing.T) {
	// Sensitivity and positive predictivity on a noisy synthetic ECG with
	// wander and mains hum, at every rate the issue names; beats after the
	// warm-up must be reported within MaxLatency.
	const floor = 0.99
	for _, fs := range []float64{128, 250, 360, 500, 1000} {
		t.Run(fmt.Sprint(fs), func(t *testing.T) {
			rec, truth := record(t, ecgsynth.Config{RateHz: fs, Seed: 1, NoiseMV: 0.03, WanderMV: 0.3, MainsMV: 0.1,
				Segments: []ecgsynth.Segment{{Kind: ecgsynth.Sinus, Seconds: 30, RateBPM: 72}, {Kind: ecgsynth.PVCs, Seconds: 30, RateBPM: 90},
					{Kind: ecgsynth.AF, Seconds: 30, RateBPM: 110}, {Kind: ecgsynth.Sinus, Seconds: 20, RateBPM: 45}}})
			d, err := ecg.NewDetector(ecg.DetectorConfig{RateHz: fs})
			if err != nil {
				t.Fatal(err)
			}
			var beats []ecg.Beat
			x := rec.Leads[0].Samples
			for off := 0; off < len(x); off += 37 { // odd chunk size on purpose
				beats = d.Process(beats, x[off:min(off+37, len(x))])
			}
			m := ecg.MatchBeats(truthSamples(truth), beatSamples(beats), int64(0.15*fs), 0, 0)
			if m.Sensitivity() < floor || m.PositivePredictivity() < floor {
				t.Errorf("%+v: Se %.4f PPV %.4f, want ≥ %g", m, m.Sensitivity(), m.PositivePredictivity(), floor)
			}
			for _, b := range beats {
				if lat := float64(b.Reported-b.Sample) / fs; b.Sample > int64(ecg.WarmUp*fs) && lat > ecg.MaxLatency {
					t.Errorf("beat at %d reported %.3f s late, want ≤ %g", b.Sample, lat, ecg.MaxLatency)
				}
			}
		})
	}
}

func TestDetectorNoBeatsInFlatOrClippedSignal(t *testing.T) {
	fs := 250.0
	rec, _ := record(t, ecgsynth.Config{RateHz: fs, Seed: 2, NoiseMV: 0.01,
		Segments: []ecgsynth.Segment{{Kind: ecgsynth.Sinus, Seconds: 40, RateBPM: 75}},
		LeadOff:  []ecgsynth.LeadOff{{Start: 10, Seconds: 8}, {Start: 25, Seconds: 8, Rail: true}}})
	d, _ := ecg.NewDetector(ecg.DetectorConfig{RateHz: fs})
	beats := d.Process(nil, rec.Leads[0].Samples)
	for _, b := range beats {
		s := float64(b.Sample) / fs
		if (s > 10.2 && s < 17.8) || (s > 25.2 && s < 32.8) {
			t.Errorf("beat at %.2f s inside a lead-off stretch", s)
		}
	}
	if len(beats) < 25 {
		t.Errorf("only %d beats outside the lead-off stretches", len(beats))
	}
	// NaN and Inf are lead-off too and never panic.
	nan := make([]float32, 2000)
	for i := range nan {
		nan[i] = float32(math.NaN())
		if i%3 == 0 {
			nan[i] = float32(math.Inf(1))
		}
	}
	d2, _ := ecg.NewDetector(ecg.DetectorConfig{RateHz: fs})
	if got := d2.Process(nil, nan); len(got) != 0 {
		t.Errorf("%d beats from NaN/Inf input", len(got))
	}
	if q, _ := d2.Quality(); q != ecg.QualityLeadOff {
		t.Errorf("quality of NaN input = %v, want lead_off", q)
	}
}

func TestNewDetectorRejectsRates(t *testing.T) {
	for _, fs := range []float64{0, 100, 124.9, 1001, math.NaN()} {
		if _, err := ecg.NewDetector(ecg.DetectorConfig{RateHz: fs}); clinic.ErrorCode(err) != clinic.CodeInvalid {
			t.Errorf("NewDetector(%g): err = %v, want invalid", fs, err)
		}
	}
}

func TestDetectorSteadyStateAllocs(t *testing.T) {
	rec, _ := record(t, ecgsynth.Config{RateHz: 500, Seed: 3, Segments: []ecgsynth.Segment{{Kind: ecgsynth.Sinus, Seconds: 20, RateBPM: 80}}})
	d, _ := ecg.NewDetector(ecg.DetectorConfig{RateHz: 500})
	dst := make([]ecg.Beat, 0, 64)
	x := rec.Leads[0].Samples
	dst = d.Process(dst[:0], x[:5000])
	allocs := testing.AllocsPerRun(5, func() { dst = d.Process(dst[:0], x[5000:]) })
	if allocs != 0 {
		t.Errorf("allocs per Process = %v, want 0", allocs)
	}
	if b := d.StateBytes(); b > 64<<10 {
		t.Errorf("detector state %d bytes, want ≤ 64 KiB", b)
	}
}

// rhythmsCover reports the share of [start, end) covered by episodes of typ.
func rhythmsCover(rep ecg.Report, typ ecg.Rhythm, start, end int64) float64 {
	var c int64
	for _, e := range rep.Rhythms {
		if e.Type != typ {
			continue
		}
		lo, hi := max(e.Start, start), min(e.End, end)
		if hi > lo {
			c += hi - lo
		}
	}
	return float64(c) / float64(end-start)
}

func alertIDs(rep ecg.Report) []string {
	var ids []string
	for _, a := range rep.Alerts {
		ids = append(ids, string(a.RuleID))
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

func TestAnalyzeScenarios(t *testing.T) {
	fixed := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	sinus := func(s float64) ecgsynth.Segment {
		return ecgsynth.Segment{Kind: ecgsynth.Sinus, Seconds: s, RateBPM: 75}
	}
	for _, tc := range []struct {
		name       string
		cfg        ecgsynth.Config
		sex        clinic.Sex
		age        int
		wantAlerts []string
		// wantRhythm must cover at least 70 % of the segment with that index.
		wantRhythm map[int]ecg.Rhythm
	}{
		{name: "normal sinus", cfg: ecgsynth.Config{Segments: []ecgsynth.Segment{sinus(30)}},
			wantRhythm: map[int]ecg.Rhythm{0: ecg.RhythmSinus}},
		{name: "sinus bradycardia 50", cfg: ecgsynth.Config{Segments: []ecgsynth.Segment{{Kind: ecgsynth.Sinus, Seconds: 30, RateBPM: 50}}},
			wantRhythm: map[int]ecg.Rhythm{0: ecg.RhythmSinusBrady}},
		{name: "atrial fibrillation episode", cfg: ecgsynth.Config{Segments: []ecgsynth.Segment{sinus(30), {Kind: ecgsynth.AF, Seconds: 60, RateBPM: 100}, sinus(30)}},
			wantRhythm: map[int]ecg.Rhythm{0: ecg.RhythmSinus, 1: ecg.RhythmAF, 2: ecg.RhythmSinus}},
		{name: "sustained VT", cfg: ecgsynth.Config{Segments: []ecgsynth.Segment{sinus(20), {Kind: ecgsynth.VT, Seconds: 35, RateBPM: 170}, sinus(10)}},
			wantAlerts: []string{"ecg.vt_sustained"}, wantRhythm: map[int]ecg.Rhythm{1: ecg.RhythmVT}},
		{name: "non-sustained VT raises nothing", cfg: ecgsynth.Config{Segments: []ecgsynth.Segment{sinus(20), {Kind: ecgsynth.VT, Seconds: 5, RateBPM: 170}, sinus(20)}},
			wantRhythm: map[int]ecg.Rhythm{1: ecg.RhythmVT}},
		{name: "ventricular fibrillation", cfg: ecgsynth.Config{Segments: []ecgsynth.Segment{sinus(20), {Kind: ecgsynth.VF, Seconds: 15}}},
			wantAlerts: []string{"ecg.vf"}, wantRhythm: map[int]ecg.Rhythm{1: ecg.RhythmVF}},
		{name: "asystole", cfg: ecgsynth.Config{Segments: []ecgsynth.Segment{sinus(20), {Kind: ecgsynth.Asystole, Seconds: 6}, sinus(10)}},
			wantAlerts: []string{"ecg.pause"}},
		{name: "bradycardia 35 sustained", cfg: ecgsynth.Config{Segments: []ecgsynth.Segment{sinus(10), {Kind: ecgsynth.Sinus, Seconds: 40, RateBPM: 35}}},
			wantAlerts: []string{"ecg.hr_low"}, wantRhythm: map[int]ecg.Rhythm{1: ecg.RhythmSinusBrady}},
		{name: "tachycardia 190 sustained", cfg: ecgsynth.Config{Segments: []ecgsynth.Segment{sinus(10), {Kind: ecgsynth.Sinus, Seconds: 30, RateBPM: 190}}},
			wantAlerts: []string{"ecg.hr_high"}, wantRhythm: map[int]ecg.Rhythm{1: ecg.RhythmSinusTachy}},
		{name: "bigeminy", cfg: ecgsynth.Config{Segments: []ecgsynth.Segment{sinus(20), {Kind: ecgsynth.Bigeminy, Seconds: 30, RateBPM: 70}}},
			wantRhythm: map[int]ecg.Rhythm{1: ecg.RhythmBigeminy}},
		{name: "trigeminy", cfg: ecgsynth.Config{Segments: []ecgsynth.Segment{sinus(20), {Kind: ecgsynth.Trigeminy, Seconds: 30, RateBPM: 70}}},
			wantRhythm: map[int]ecg.Rhythm{1: ecg.RhythmTrigeminy}},
		{name: "inferior STEMI", cfg: ecgsynth.Config{Leads: twelve, STmV: map[string]float64{"II": 0.25, "III": 0.2, "aVF": 0.25},
			Segments: []ecgsynth.Segment{sinus(10)}}, wantAlerts: []string{"ecg.stemi"}},
		{name: "ST 0.05 mV is not STEMI", cfg: ecgsynth.Config{Leads: twelve, STmV: map[string]float64{"II": 0.05, "III": 0.05, "aVF": 0.05},
			Segments: []ecgsynth.Segment{sinus(10)}}},
		{name: "V2-V3 1.8 mm in a man over 40 is not STEMI", cfg: ecgsynth.Config{Leads: twelve, STmV: map[string]float64{"V2": 0.18, "V3": 0.18},
			Segments: []ecgsynth.Segment{sinus(10)}}, sex: clinic.SexMale, age: 55},
		{name: "V2-V3 1.8 mm in a woman is STEMI", cfg: ecgsynth.Config{Leads: twelve, STmV: map[string]float64{"V2": 0.18, "V3": 0.18},
			Segments: []ecgsynth.Segment{sinus(10)}}, sex: clinic.SexFemale, age: 55, wantAlerts: []string{"ecg.stemi"}},
		{name: "lateral STEMI in I and V5", cfg: ecgsynth.Config{Leads: twelve, STmV: map[string]float64{"I": 0.15, "V5": 0.15},
			Segments: []ecgsynth.Segment{sinus(10)}}, wantAlerts: []string{"ecg.stemi"}},
		{name: "ST elevation in one inferior lead is not STEMI", cfg: ecgsynth.Config{Leads: twelve, STmV: map[string]float64{"III": 0.15, "aVF": 0.07},
			Segments: []ecgsynth.Segment{sinus(10)}}},
		{name: "AF at 150/min with a 20 % RR spread", cfg: ecgsynth.Config{Leads: []string{"II", "V1"}, Segments: []ecgsynth.Segment{sinus(20),
			{Kind: ecgsynth.AF, Seconds: 40, RateBPM: 150, Spread: 0.2}, sinus(20)}},
			wantRhythm: map[int]ecg.Rhythm{0: ecg.RhythmSinus, 1: ecg.RhythmAF, 2: ecg.RhythmSinus}},
		{name: "sinus tachycardia 150 is not AF", cfg: ecgsynth.Config{Leads: []string{"II", "V1"}, NoiseMV: 0.05,
			Segments: []ecgsynth.Segment{sinus(10), {Kind: ecgsynth.Sinus, Seconds: 40, RateBPM: 150}}},
			wantRhythm: map[int]ecg.Rhythm{1: ecg.RhythmSinusTachy}},
		{name: "third-degree AV block", cfg: ecgsynth.Config{Leads: twelve, Segments: []ecgsynth.Segment{sinus(10),
			{Kind: ecgsynth.AVBlock3, Seconds: 40, RateBPM: 45, AtrialRateBPM: 85}}},
			wantAlerts: []string{"ecg.av_block_3"}},
		{name: "third-degree AV block, escape 36/min", cfg: ecgsynth.Config{Leads: []string{"II", "V1"}, Segments: []ecgsynth.Segment{sinus(10),
			{Kind: ecgsynth.AVBlock3, Seconds: 40, RateBPM: 36, AtrialRateBPM: 75}}},
			wantAlerts: []string{"ecg.av_block_3", "ecg.hr_low"}},
		{name: "2:1 AV block is not third-degree", cfg: ecgsynth.Config{Leads: twelve, Segments: []ecgsynth.Segment{sinus(10),
			{Kind: ecgsynth.AVBlock2to1, Seconds: 40, AtrialRateBPM: 96}}}},
		{name: "sinus bradycardia 45 is not AV block", cfg: ecgsynth.Config{Leads: twelve, Segments: []ecgsynth.Segment{sinus(10),
			{Kind: ecgsynth.Sinus, Seconds: 40, RateBPM: 45}}}},
		{name: "long QTc with R-on-T PVCs", cfg: ecgsynth.Config{Leads: []string{"II", "V5"}, Segments: []ecgsynth.Segment{
			{Kind: ecgsynth.PVCs, Seconds: 40, RateBPM: 70, EctopicEvery: 6, QTms: 560, RonTms: 400}}},
			wantAlerts: []string{"ecg.long_qtc_ront"}},
		{name: "long QTc with late-coupled PVCs is not R-on-T", cfg: ecgsynth.Config{Leads: []string{"II", "V5"}, Segments: []ecgsynth.Segment{
			{Kind: ecgsynth.PVCs, Seconds: 40, RateBPM: 70, EctopicEvery: 6, QTms: 560, RonTms: 720}}}},
		{name: "normal QTc with early PVCs is not R-on-T", cfg: ecgsynth.Config{Leads: []string{"II", "V5"}, Segments: []ecgsynth.Segment{
			{Kind: ecgsynth.PVCs, Seconds: 40, RateBPM: 70, EctopicEvery: 6, RonTms: 400}}}},
		{name: "all leads off raises nothing", cfg: ecgsynth.Config{Leads: []string{"II", "V5"},
			Segments: []ecgsynth.Segment{sinus(60)},
			LeadOff:  []ecgsynth.LeadOff{{Lead: 0, Start: 20, Seconds: 15}, {Lead: 1, Start: 20, Seconds: 15}}}},
		{name: "clipped leads raise nothing", cfg: ecgsynth.Config{Leads: []string{"II", "V5"},
			Segments: []ecgsynth.Segment{sinus(60)},
			LeadOff:  []ecgsynth.LeadOff{{Lead: 0, Start: 20, Seconds: 15, Rail: true}, {Lead: 1, Start: 20, Seconds: 15, Rail: true}}}},
		{name: "heavy noise raises nothing", cfg: ecgsynth.Config{Leads: []string{"II", "V5"}, NoiseMV: 0.5,
			Segments: []ecgsynth.Segment{sinus(60)}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.RateHz, cfg.Seed = 250, 11
			if cfg.NoiseMV == 0 {
				cfg.NoiseMV = 0.02
			}
			cfg.WanderMV = 0.1
			rec, truth := record(t, cfg)
			rec.Sex, rec.AgeYears = tc.sex, -1
			if tc.age > 0 {
				rec.AgeYears = tc.age
			}
			rep, err := ecg.AnalyzeWith(t.Context(), rec, ecg.Config{Clock: func() time.Time { return fixed }})
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.wantAlerts, alertIDs(rep)); d != "" {
				t.Errorf("alerts (-want +got):\n%s\nrhythms %+v", d, rep.Rhythms)
			}
			if rep.Critical != (len(tc.wantAlerts) > 0) {
				t.Errorf("critical = %v", rep.Critical)
			}
			for seg, typ := range tc.wantRhythm {
				ep := truth.Episodes[seg]
				// leave out the start and end of the segment (onset
				// detection needs a few beats)
				margin := min(int64(5*cfg.RateHz), (ep.End-ep.Start)/5)
				lo, hi := ep.Start+margin, ep.End-margin
				if c := rhythmsCover(rep, typ, lo, hi); c < 0.7 {
					t.Errorf("segment %d: %s covers %.0f %%, want ≥ 70 %%; rhythms %+v", seg, typ, 100*c, rep.Rhythms)
				}
			}
			for _, a := range rep.Alerts {
				if len(a.Evidence) < 2 || a.Source == "" || !a.RaisedAt.Equal(fixed) || a.End < a.Start {
					t.Errorf("alert %s lacks evidence, source or times: %+v", a.RuleID, a)
				}
				if a.RuleID != "ecg.av_block_3" {
					continue
				}
				if v := a.Values; v["atrial_rate_bpm"] <= v["ventricular_rate_bpm"] || v["pr_range_ms"] < 160 {
					t.Errorf("AV block evidence %v", v)
				}
				if !slices.ContainsFunc(rep.Findings, func(f ecg.Finding) bool { return f.Code == "third_degree_av_block" }) {
					t.Errorf("AV block alert without a third_degree_av_block finding: %+v", rep.Findings)
				}
			}
		})
	}
}

func TestStreamChunkingInvariance(t *testing.T) {
	// Property: the beats do not depend on how the stream is chunked.
	rec, _ := record(t, ecgsynth.Config{RateHz: 360, Seed: 5, NoiseMV: 0.03, Leads: []string{"II", "V5"},
		Segments: []ecgsynth.Segment{{Kind: ecgsynth.PVCs, Seconds: 40, RateBPM: 80}}})
	run := func(chunk func() int) []ecg.Beat {
		s, err := ecg.New(ecg.Config{RateHz: 360, Leads: []string{"II", "V5"}})
		if err != nil {
			t.Fatal(err)
		}
		var ev []ecg.Event
		n := rec.Len()
		for off := 0; off < n; {
			end := min(off+chunk(), n)
			ev, err = s.Process(ev, [][]float32{rec.Leads[0].Samples[off:end], rec.Leads[1].Samples[off:end]})
			if err != nil {
				t.Fatal(err)
			}
			off = end
		}
		ev = s.Finish(ev)
		var beats []ecg.Beat
		for _, e := range ev {
			if e.Kind == ecg.EventBeat {
				e.Beat.Reported = 0
				beats = append(beats, e.Beat)
			}
		}
		return beats
	}
	rng := rand.New(rand.NewPCG(1, 2))
	a := run(func() int { return 360 })
	b := run(func() int { return 1 + rng.IntN(700) })
	if d := cmp.Diff(a, b); d != "" {
		t.Errorf("beats differ between chunkings (-1 s chunks +random):\n%s", d)
	}
	if len(a) < 45 {
		t.Errorf("only %d beats", len(a))
	}
}

func TestStreamInputErrors(t *testing.T) {
	s, err := ecg.New(ecg.Config{RateHz: 250, Leads: []string{"I", "II"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Process(nil, [][]float32{{1, 2}}); clinic.ErrorCode(err) != clinic.CodeInvalid {
		t.Errorf("wrong lead count: err = %v", err)
	}
	if _, err := s.Process(nil, [][]float32{{1, 2}, {1}}); clinic.ErrorCode(err) != clinic.CodeInvalid {
		t.Errorf("ragged chunk: err = %v", err)
	}
	if _, err := s.ProcessAt(nil, 0, [][]float32{make([]float32, 100), make([]float32, 100)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ProcessAt(nil, 50, [][]float32{make([]float32, 10), make([]float32, 10)}); clinic.ErrorCode(err) != clinic.CodeInvalid {
		t.Errorf("out-of-order chunk: err = %v", err)
	}
	if _, err := s.ProcessAt(nil, 100+250*11, [][]float32{{1}, {1}}); clinic.ErrorCode(err) != clinic.CodeInvalid {
		t.Errorf("11 s gap: err = %v", err)
	}
	if _, err := s.ProcessAt(nil, 300, [][]float32{{1}, {1}}); err != nil || s.Samples() != 301 {
		t.Errorf("gap fill: err = %v, samples %d, want 301", err, s.Samples())
	}
	for _, cfg := range []ecg.Config{{RateHz: 50, Leads: []string{"I"}}, {RateHz: 250}, {RateHz: 250, Leads: []string{"I"}, MainsHz: 55}} {
		if _, err := ecg.New(cfg); clinic.ErrorCode(err) != clinic.CodeInvalid {
			t.Errorf("New(%+v): err = %v, want invalid", cfg, err)
		}
	}
	if _, err := ecg.Analyze(t.Context(), ecg.Record{RateHz: 250, Leads: []ecg.Lead{{Name: "I", Samples: []float32{1}}, {Name: "II"}}}); clinic.ErrorCode(err) != clinic.CodeInvalid {
		t.Errorf("ragged record: err = %v", err)
	}
}

func TestStreamStateBound(t *testing.T) {
	for _, fs := range []float64{125, 500, 1000} {
		s, err := ecg.New(ecg.Config{RateHz: fs, Leads: twelve})
		if err != nil {
			t.Fatal(err)
		}
		if b := s.StateBytesPerLead(); b > 64<<10 {
			t.Errorf("%g Hz: %d bytes of state per lead, want ≤ 64 KiB", fs, b)
		}
	}
}

func TestMatchBeats(t *testing.T) {
	for _, tc := range []struct {
		name     string
		ref, det []int64
		want     ecg.Match
	}{
		{"exact", []int64{100, 200, 300}, []int64{100, 200, 300}, ecg.Match{TP: 3}},
		{"miss and extra", []int64{100, 200, 300}, []int64{102, 250, 299, 400}, ecg.Match{TP: 2, FN: 1, FP: 2}},
		{"closer wins", []int64{100}, []int64{92, 99}, ecg.Match{TP: 1, FP: 1}},
		{"empty", nil, []int64{5}, ecg.Match{FP: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if d := cmp.Diff(tc.want, ecg.MatchBeats(tc.ref, tc.det, 10, 0, 0)); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestRules(t *testing.T) {
	rs, err := ecg.DefaultRules()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs.Rules {
		if r.Source == "" {
			t.Errorf("rule %s has no source", r.ID)
		}
	}
	for _, bad := range []string{
		`{"version":1,"rules":[{"id":"x","kind":"nope","title":"t","title_zh":"t","source":"s","params":{}}]}`,
		`{"version":1,"rules":[{"id":"x","kind":"pause","title":"t","title_zh":"t","source":"","params":{"min_pause_s":3}}]}`,
		`{"version":1,"rules":[{"id":"x","kind":"pause","title":"t","title_zh":"t","source":"s","params":{"min_pause_s":0}}]}`,
		`{"version":1,"rules":[],"extra":1}`,
	} {
		if _, err := ecg.ParseRules([]byte(bad)); clinic.ErrorCode(err) != clinic.CodeInvalid {
			t.Errorf("ParseRules(%s): err = %v, want invalid", bad, err)
		}
	}
}

// FuzzStreamProcessAt feeds a stream chunks whose starts, lengths and
// samples come from the fuzzer (out of order, gaps, NaN, ±Inf, huge
// values): ProcessAt must return an error or events, never panic, keep
// Samples monotonic and its state bounded.
func FuzzStreamProcessAt(f *testing.F) {
	f.Add([]byte{0, 10, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10})
	f.Add([]byte{5, 200, 0xff, 0x7f, 0x80, 0x00, 0x7f, 0xc0, 1, 1, 1, 1})
	f.Add(bytes.Repeat([]byte{3, 50, 0x40, 0x41, 0x42, 0x43}, 40))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ecg.New(ecg.Config{RateHz: 250, Leads: []string{"II", "V5"}})
		if err != nil {
			t.Fatal(err)
		}
		limit := s.StateBytes() + 64<<10
		ev := make([]ecg.Event, 0, 16)
		chunk := make([][]float32, 2)
		for len(data) >= 2 {
			// byte 0: start offset from Samples() (−8…+247 in 64-sample
			// steps when high bit set), byte 1: chunk length.
			jump := int64(data[0])
			n := int(data[1])
			data = data[2:]
			start := s.Samples()
			if jump&0x80 != 0 {
				start -= (jump & 0x7f) * 64
			} else {
				start += jump * 64
			}
			for l := range chunk {
				chunk[l] = chunk[l][:0]
				for i := 0; i < n; i++ {
					var v float32
					if len(data) >= 4 {
						v = math.Float32frombits(binary.LittleEndian.Uint32(data))
						data = data[4:]
					} else {
						v = float32(i%50) / 25
					}
					chunk[l] = append(chunk[l], v)
				}
			}
			before := s.Samples()
			ev, err = s.ProcessAt(ev[:0], start, chunk)
			switch {
			case s.Samples() < before:
				t.Fatalf("Samples went back from %d to %d", before, s.Samples())
			case err == nil && s.Samples() != start+int64(n):
				t.Fatalf("accepted chunk at %d of %d samples: Samples %d", start, n, s.Samples())
			case err != nil && start < before && s.Samples() != before:
				t.Fatalf("out-of-order chunk rejected but %d samples processed", s.Samples()-before)
			}
		}
		ev = s.Finish(ev[:0])
		if b := s.StateBytes(); b > limit {
			t.Fatalf("state grew to %d bytes (limit %d)", b, limit)
		}
	})
}
