package ecg_test

import (
	"runtime"
	"testing"

	"github.com/yizhu-health/yizhu/inference/ecg"
	"github.com/yizhu-health/yizhu/inference/ecg/ecgsynth"
)

// BenchmarkDetector measures the single-lead detection path (filters,
// feature, thresholds, quality gate) on 60 s of 500 Hz synthetic ECG.
// Target (issue 4): ≥ 20 M samples/s per core, 0 allocs/op.
func BenchmarkDetector(b *testing.B) {
	rec, _ := record(b, ecgsynth.Config{RateHz: 500, Seed: 9, NoiseMV: 0.03, WanderMV: 0.2,
		Segments: []ecgsynth.Segment{{Kind: ecgsynth.PVCs, Seconds: 60, RateBPM: 80}}})
	x := rec.Leads[0].Samples
	d, _ := ecg.NewDetector(ecg.DetectorConfig{RateHz: 500})
	dst := make([]ecg.Beat, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		dst = d.Process(dst[:0], x)
	}
	b.ReportMetric(float64(b.N)*float64(len(x))/b.Elapsed().Seconds(), "samples/s")
}

// BenchmarkAnalyze12Lead10s is the full analysis (detection, fusion,
// labels, templates, measurements, rhythm, rules, report) of a 12-lead,
// 10 s, 500 Hz record. Target (issue 4): ≤ 2 ms.
func BenchmarkAnalyze12Lead10s(b *testing.B) {
	rec, _ := record(b, ecgsynth.Config{RateHz: 500, Seed: 10, NoiseMV: 0.02, Leads: twelve,
		Segments: []ecgsynth.Segment{{Kind: ecgsynth.Sinus, Seconds: 10, RateBPM: 75}}})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ecg.Analyze(b.Context(), rec); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/record")
}

// BenchmarkStreams keeps many 12-lead 500 Hz streams going, one second of
// signal per stream per iteration, and reports the CPU share that 1,000
// such streams would need on this machine's cores (real time needs < 1)
// and the analysis state per lead.
func BenchmarkStreams(b *testing.B) {
	const streams = 50
	const fs = 500
	rec, _ := record(b, ecgsynth.Config{RateHz: fs, Seed: 12, NoiseMV: 0.02, Leads: twelve,
		Segments: []ecgsynth.Segment{{Kind: ecgsynth.PVCs, Seconds: 20, RateBPM: 85}}})
	ss := make([]*ecg.Stream, streams)
	for i := range ss {
		var err error
		if ss[i], err = ecg.New(ecg.Config{RateHz: fs, Leads: twelve}); err != nil {
			b.Fatal(err)
		}
	}
	chunk := make([][]float32, len(twelve))
	ev := make([]ecg.Event, 0, 64)
	sec := 0
	b.ReportAllocs()
	for b.Loop() {
		off := (sec % 20) * fs
		for l := range chunk {
			chunk[l] = rec.Leads[l].Samples[off : off+fs]
		}
		for _, s := range ss {
			var err error
			if ev, err = s.Process(ev[:0], chunk); err != nil {
				b.Fatal(err)
			}
		}
		sec++
	}
	perStreamSecond := b.Elapsed().Seconds() / float64(b.N) / streams
	b.ReportMetric(1000*perStreamSecond/float64(runtime.NumCPU()), "cpu_share_1000_streams")
	b.ReportMetric(float64(ss[0].StateBytesPerLead()), "state_B/lead")
}
