package ecg

import (
	"testing"

	"github.com/yizhu-health/yizhu/eval/metrics"
	"github.com/yizhu-health/yizhu/inference/ecg"
)

// MIT-BIH annotation codes used by the fixtures below (WFDB ecgcodes).
const (
	cN, cL, cR, ca, cV, cF, cJ, cA, cS, cE, cj, cPace, cQ = 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13
	cNoise, cB, cRhythm, cLearn, ce, cn, cf, cr           = 14, 25, 28, 30, 34, 35, 38, 41
)

func TestAAMIClass(t *testing.T) {
	for _, tc := range []struct {
		sym  string
		code int
		want string
	}{
		{"N", cN, "N"}, {"L", cL, "N"}, {"R", cR, "N"}, {"e", ce, "N"}, {"j", cj, "N"},
		{"A", cA, "S"}, {"a", ca, "S"}, {"J", cJ, "S"}, {"S", cS, "S"},
		{"V", cV, "V"}, {"E", cE, "V"},
		{"F", cF, "F"},
		{"/", cPace, "Q"}, {"f", cf, "Q"}, {"Q", cQ, "Q"},
		// supraventricular escape and R-on-T ventricular beats (codes of
		// other databases) go with their origin; the rest is left out as Q
		{"n", cn, "S"}, {"r", cr, "V"}, {"B", cB, "Q"}, {"?", cLearn, "Q"},
		// not beats
		{"~", cNoise, ""}, {"+", cRhythm, ""}, {"none", 0, ""}, {"x", 37, ""}, {"!", 31, ""},
	} {
		if got := aamiClass(tc.code); got != tc.want {
			t.Errorf("aamiClass(%s = %d) = %q, want %q", tc.sym, tc.code, got, tc.want)
		}
	}
}

// TestClassifyPairs counts a tiny synthetic set of matched pairs: each case
// gives the reference codes, the detector labels (pair i joins reference i
// and detection i) and the counts EC57 gives them.
func TestClassifyPairs(t *testing.T) {
	const (
		n, s, v, q = ecg.LabelNormal, ecg.LabelSupraventricular, ecg.LabelVentricular, ecg.LabelUnclassifiable
	)
	for _, tc := range []struct {
		name   string
		codes  []int
		labels []ecg.Label
		want   classCounts
	}{
		{"empty", nil, nil, classCounts{}},
		{"all right", []int{cN, cL, cA, cV, cE},
			[]ecg.Label{n, n, s, v, v},
			classCounts{Pairs: 5, NRef: 2, NTP: 2, SRef: 1, STP: 1, VRef: 2, VTP: 2}},
		{"N labelled S and V are false positives", []int{cN, cN, cN},
			[]ecg.Label{s, v, n},
			classCounts{Pairs: 3, NRef: 3, NTP: 1, SFP: 1, VFP: 1}},
		{"S labelled V: SVEB miss and VEB false positive", []int{ca},
			[]ecg.Label{v},
			classCounts{Pairs: 1, SRef: 1, VFP: 1}},
		{"V labelled S: VEB miss and SVEB false positive", []int{cV},
			[]ecg.Label{s},
			classCounts{Pairs: 1, VRef: 1, SFP: 1}},
		{"detector Q and empty labels are misses", []int{cS, cV, cN},
			[]ecg.Label{q, "", q},
			classCounts{Pairs: 3, SRef: 1, VRef: 1, NRef: 1}},
		{"fusion labelled V is no VEB false positive, labelled S is an SVEB one", []int{cF, cF, cF},
			[]ecg.Label{v, s, n},
			classCounts{Pairs: 3, FRef: 3, FAsV: 1, SFP: 1}},
		{"reference Q beats left out whatever the label", []int{cPace, cf, cQ, cB, cLearn},
			[]ecg.Label{v, s, n, v, v},
			classCounts{QRef: 5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pairs := make([]metrics.BeatPair, len(tc.codes))
			for i := range pairs {
				pairs[i] = metrics.BeatPair{Ref: i, Det: i}
			}
			got := classifyPairs(pairs, tc.codes, tc.labels)
			if got != tc.want {
				t.Fatalf("counts %+v, want %+v", got, tc.want)
			}
			if got.SFN() != got.SRef-got.STP || got.VFN() != got.VRef-got.VTP {
				t.Fatalf("FN: S %d V %d from %+v", got.SFN(), got.VFN(), got)
			}
		})
	}
}

func TestClassCountsAdd(t *testing.T) {
	a := classCounts{Pairs: 1, NRef: 2, NTP: 3, SRef: 4, STP: 5, SFP: 6, VRef: 7, VTP: 8, VFP: 9, FAsV: 10, FRef: 11, QRef: 12}
	want := classCounts{Pairs: 2, NRef: 4, NTP: 6, SRef: 8, STP: 10, SFP: 12, VRef: 14, VTP: 16, VFP: 18, FAsV: 20, FRef: 22, QRef: 24}
	if got := a.add(a); got != want {
		t.Fatalf("%+v + itself = %+v, want %+v", a, got, want)
	}
}

func TestPutClassMetrics(t *testing.T) {
	for _, tc := range []struct {
		name    string
		c       classCounts
		want    map[string]float64
		missing []string
	}{
		{"ratios", classCounts{Pairs: 10, NRef: 6, NTP: 5, SRef: 2, STP: 1, SFP: 3, VRef: 2, VTP: 2, VFP: 0, FAsV: 1, FRef: 0, QRef: 4},
			map[string]float64{
				"pairs": 10, "n.ref": 6, "n.tp": 5, "n.sensitivity": 5.0 / 6, "f.ref": 0, "f.as_v": 1, "q.ref": 4,
				"sveb.ref": 2, "sveb.tp": 1, "sveb.fn": 1, "sveb.fp": 3, "sveb.sensitivity": 0.5, "sveb.positive_predictivity": 0.25,
				"veb.ref": 2, "veb.tp": 2, "veb.fn": 0, "veb.fp": 0, "veb.sensitivity": 1, "veb.positive_predictivity": 1,
			}, nil},
		{"zero denominators left out", classCounts{Pairs: 3, NRef: 3, NTP: 3},
			map[string]float64{"pairs": 3, "n.ref": 3, "n.sensitivity": 1, "sveb.ref": 0, "sveb.tp": 0, "sveb.fn": 0, "sveb.fp": 0, "veb.ref": 0, "veb.fp": 0},
			[]string{"sveb.sensitivity", "sveb.positive_predictivity", "veb.sensitivity", "veb.positive_predictivity"}},
		{"only false positives: Se left out, +P 0", classCounts{Pairs: 2, NRef: 2, SFP: 1, VFP: 1},
			map[string]float64{"sveb.positive_predictivity": 0, "veb.positive_predictivity": 0, "n.sensitivity": 0},
			[]string{"sveb.sensitivity", "veb.sensitivity"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, suffix := range []string{"", ".physionet/x/1"} {
				m := map[string]float64{}
				putClassMetrics(m, tc.c, suffix)
				for k, v := range tc.want {
					if got, ok := m["beat_class."+k+suffix]; !ok || got != v {
						t.Errorf("beat_class.%s%s = %v (present %v), want %v", k, suffix, got, ok, v)
					}
				}
				for _, k := range tc.missing {
					if v, ok := m["beat_class."+k+suffix]; ok {
						t.Errorf("beat_class.%s%s = %v, want it left out", k, suffix, v)
					}
				}
			}
		})
	}
}
