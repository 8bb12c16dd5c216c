package metrics_test

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/yizhu-health/yizhu/eval/metrics"
)

// BenchmarkMatchBeats matches a 30-minute record at 360 Hz (about 2,200
// beats, as in an MIT-BIH record) against detections jittered by up to
// ±20 samples with 1 % of beats missed and 1 % extra detections.
func BenchmarkMatchBeats(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	var ref, det []int64
	for t := int64(200); t < 30*60*360; t += 250 + rng.Int64N(100) {
		ref = append(ref, t)
		if rng.IntN(100) != 0 {
			det = append(det, t+rng.Int64N(41)-20)
		}
		if rng.IntN(100) == 0 {
			det = append(det, t+120)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := metrics.MatchBeats(ref, det, 360, metrics.EC57Window); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(ref))*float64(b.N)/b.Elapsed().Seconds(), "beats/s")
}

// BenchmarkScoreRouge scores a 600-word English note against another, the
// size of an ACI-BENCH note.
func BenchmarkScoreRouge(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	vocab := strings.Fields("patient reports chest pain shortness of breath denies fever cough history hypertension diabetes plan follow up exam normal heart lungs clear")
	note := func() string {
		w := make([]string, 600)
		for i := range w {
			w[i] = vocab[rng.IntN(len(vocab))]
		}
		return strings.Join(w, " ")
	}
	cand, ref := note(), note()
	b.ResetTimer()
	for b.Loop() {
		_ = metrics.ScoreRouge(cand, ref)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pairs/s")
}
