package ecg

import (
	"github.com/yizhu-health/yizhu/eval/metrics"
	"github.com/yizhu-health/yizhu/inference/ecg"
	"github.com/yizhu-health/yizhu/inference/ecg/wfdb"
)

// AAMI beat classes of the reference annotations.
const (
	classN = "N" // normal, bundle branch block and escape beats
	classS = "S" // supraventricular ectopic beats (SVEB)
	classV = "V" // ventricular ectopic beats (VEB)
	classF = "F" // fusion of ventricular and normal beats
	classQ = "Q" // paced, paced fusion, unclassifiable: left out of scoring
)

// aamiClass returns the ANSI/AAMI EC57 class of a beat annotation code
// (wfdb.AAMIClass: N, S, V, F or Q), or "" when the code is not a beat.
// Q (paced, paced fusion, unclassifiable) is left out of the scores.
func aamiClass(code int) string { return wfdb.AAMIClass(code) }

// classCounts are the beat-classification counts over matched beat pairs
// (a reference beat and the detection matched to it), as EC57 counts them
// for ventricular (VEB) and supraventricular (SVEB) ectopic beats. Pairs
// whose reference beat is of class Q are left out of every count but QRef.
// The detector's label "Q" (or an empty label) is neither S nor V, so a
// reference S or V beat given it is a false negative.
type classCounts struct {
	Pairs int // scored pairs: reference class N, S, V or F

	NRef int // reference N
	NTP  int // reference N labelled N

	SRef int // reference S
	STP  int // reference S labelled S
	SFP  int // labelled S, reference N, V or F

	VRef int // reference V
	VTP  int // reference V labelled V
	VFP  int // labelled V, reference N or S
	// FAsV counts reference F beats labelled V: EC57 does not count them
	// as VEB false positives, and neither do we.
	FAsV int

	FRef int // reference F
	QRef int // reference Q: left out
}

// SFN returns the reference S beats not labelled S.
func (c classCounts) SFN() int { return c.SRef - c.STP }

// VFN returns the reference V beats not labelled V.
func (c classCounts) VFN() int { return c.VRef - c.VTP }

// add returns the element-wise sum of c and d.
func (c classCounts) add(d classCounts) classCounts {
	return classCounts{
		Pairs: c.Pairs + d.Pairs,
		NRef:  c.NRef + d.NRef, NTP: c.NTP + d.NTP,
		SRef: c.SRef + d.SRef, STP: c.STP + d.STP, SFP: c.SFP + d.SFP,
		VRef: c.VRef + d.VRef, VTP: c.VTP + d.VTP, VFP: c.VFP + d.VFP, FAsV: c.FAsV + d.FAsV,
		FRef: c.FRef + d.FRef, QRef: c.QRef + d.QRef,
	}
}

// count adds one matched pair: the reference beat's annotation code and
// the label the detector gave the beat matched to it.
func (c *classCounts) count(refCode int, got ecg.Label) {
	ref := aamiClass(refCode)
	if ref == "" || ref == classQ {
		c.QRef++
		return
	}
	c.Pairs++
	switch ref {
	case classN:
		c.NRef++
		if got == ecg.LabelNormal {
			c.NTP++
		}
	case classS:
		c.SRef++
		if got == ecg.LabelSupraventricular {
			c.STP++
		}
	case classV:
		c.VRef++
		if got == ecg.LabelVentricular {
			c.VTP++
		}
	case classF:
		c.FRef++
	}
	if got == ecg.LabelSupraventricular && ref != classS {
		c.SFP++
	}
	if got == ecg.LabelVentricular && ref != classV {
		if ref == classF {
			c.FAsV++
		} else {
			c.VFP++
		}
	}
}

// classifyPairs counts the matched pairs: refCodes[i] is the annotation
// code of reference beat i and labels[j] the label of detection j.
func classifyPairs(pairs []metrics.BeatPair, refCodes []int, labels []ecg.Label) classCounts {
	var c classCounts
	for _, p := range pairs {
		c.count(refCodes[p.Ref], labels[p.Det])
	}
	return c
}

// putClassMetrics writes c's counts, and its sensitivities and positive
// predictivities where their denominators are not zero, as
// "beat_class.<name>" followed by suffix: "" for the gross figures,
// "."+record key per record (as qrs.se.<record> is named). A ratio with a
// zero denominator is left out, not reported as 0 or 1.
func putClassMetrics(m map[string]float64, c classCounts, suffix string) {
	put := func(name string, v int) { m["beat_class."+name+suffix] = float64(v) }
	rate := func(name string, num, den int) {
		if den > 0 {
			m["beat_class."+name+suffix] = float64(num) / float64(den)
		}
	}
	put("pairs", c.Pairs)
	put("n.ref", c.NRef)
	put("n.tp", c.NTP)
	put("f.ref", c.FRef)
	put("f.as_v", c.FAsV)
	put("q.ref", c.QRef)
	put("sveb.ref", c.SRef)
	put("sveb.tp", c.STP)
	put("sveb.fn", c.SFN())
	put("sveb.fp", c.SFP)
	put("veb.ref", c.VRef)
	put("veb.tp", c.VTP)
	put("veb.fn", c.VFN())
	put("veb.fp", c.VFP)
	rate("n.sensitivity", c.NTP, c.NRef)
	rate("sveb.sensitivity", c.STP, c.SRef)
	rate("sveb.positive_predictivity", c.STP, c.STP+c.SFP)
	rate("veb.sensitivity", c.VTP, c.VRef)
	rate("veb.positive_predictivity", c.VTP, c.VTP+c.VFP)
}
