package triage

import (
	"math"
	"math/rand/v2"
	"testing"
)

// naiveGain computes the information gain from its definition, building
// both posteriors; infoGain must agree with it.
func naiveGain(p, row []float64) float64 {
	yes, no := make([]float64, len(p)), make([]float64, len(p))
	var py, pn float64
	for i, x := range p {
		yes[i], no[i] = x*row[i], x*(1-row[i])
		py += yes[i]
		pn += no[i]
	}
	for i := range p {
		yes[i] /= py
		no[i] /= pn
	}
	return entropy(p) - py*entropy(yes) - pn*entropy(no)
}

func TestInfoGainMatchesDefinition(t *testing.T) {
	kb := DefaultKB()
	rng := rand.New(rand.NewPCG(3, 4))
	const tol = 1e-9
	for range 200 {
		p := make([]float64, len(kb.prior))
		var sum float64
		for i := range p {
			if rng.IntN(4) > 0 {
				p[i] = rng.Float64()
				sum += p[i]
			}
		}
		if sum == 0 {
			continue
		}
		lp := make([]float64, len(p))
		for i := range p {
			p[i] /= sum
			if p[i] > 0 {
				lp[i] = math.Log2(p[i])
			}
		}
		h := entropy(p)
		for _, c := range kb.askable {
			want := max(0, naiveGain(p, kb.like[c]))
			if got := kb.infoGain(p, lp, h, c); math.Abs(got-want) > tol {
				t.Fatalf("infoGain(%s) = %v, want %v", c, got, want)
			}
		}
	}
	// A finding every department reports equally carries no information.
	flat := make([]float64, len(kb.prior))
	for i := range flat {
		flat[i] = 1 / float64(len(flat))
	}
	kb.like["flat"] = make([]float64, len(flat))
	kb.log2Like["flat"], kb.log2Not["flat"] = make([]float64, len(flat)), make([]float64, len(flat))
	for i := range flat {
		kb.like["flat"][i] = 0.3
		kb.log2Like["flat"][i], kb.log2Not["flat"][i] = math.Log2(0.3), math.Log2(0.7)
	}
	lp := make([]float64, len(flat))
	for i := range lp {
		lp[i] = math.Log2(flat[i])
	}
	if g := kb.infoGain(flat, lp, entropy(flat), "flat"); g > 1e-12 {
		t.Errorf("uninformative finding gain = %v, want 0", g)
	}
}
