package ecg

import "math"

// Beat labelling thresholds. A beat whose QRS differs from the dominant
// (normal) template, by correlation or by width, is ventricular; a
// premature beat that matches the template is supraventricular (AAMI
// EC57 classes; prematurity as in common Holter practice).
const (
	corrVentricular = 0.75
	widthWideMS     = 120.0
	widthExtraMS    = 40.0
	prematureRatio  = 0.80
	templateBeats   = 8 // beats averaged before the template is exponential
)

// beatHistory keeps the last historyBeats fused beats.
type beatHistory struct {
	sample [historyBeats]int64
	fid    [historyBeats]int64   // fiducial aligned to the template (what the template adds)
	corr   [historyBeats]float32 // QRS correlation with the template; NaN when there was none
	label  [historyBeats]Label
	width  [historyBeats]float32 // QRS width, ms
	pwave  [historyBeats]int8    // 1 P wave like the template's, 0 none, −1 unknown
	n, i   int
}

func (h *beatHistory) push(s, fid int64, l Label, w, c float32, p int8) {
	h.sample[h.i], h.fid[h.i], h.label[h.i], h.width[h.i], h.corr[h.i], h.pwave[h.i] = s, fid, l, w, c, p
	h.i = (h.i + 1) % historyBeats
	h.n = min(h.n+1, historyBeats)
}

// corrOf returns the template correlation recorded for the beat whose
// aligned fiducial is fid (NaN when it had no template or is no longer
// held).
func (h *beatHistory) corrOf(fid int64) float32 {
	for k := 0; k < h.n; k++ {
		if j := (h.i - 1 - k + 2*historyBeats) % historyBeats; h.fid[j] == fid {
			return h.corr[j]
		}
	}
	return float32(math.NaN())
}

// neighbours returns the aligned fiducials of the normal beats nearest
// before and after the beat whose fiducial is fid, at least minGap and at
// most maxGap samples away, and whether each was found.
func (h *beatHistory) neighbours(fid, minGap, maxGap int64) (prev, next int64, okPrev, okNext bool) {
	for k := 0; k < h.n; k++ {
		j := (h.i - 1 - k + 2*historyBeats) % historyBeats
		if h.label[j] != LabelNormal {
			continue
		}
		switch d := h.fid[j] - fid; {
		case d >= minGap && d <= maxGap && (!okNext || h.fid[j] < next):
			next, okNext = h.fid[j], true
		case -d >= minGap && -d <= maxGap && (!okPrev || h.fid[j] > prev):
			prev, okPrev = h.fid[j], true
		}
	}
	return prev, next, okPrev, okNext
}

// at returns the k-th most recent beat (k = 0 newest).
func (h *beatHistory) at(k int) (int64, Label, float32) {
	j := (h.i - 1 - k + 2*historyBeats) % historyBeats
	return h.sample[j], h.label[j], h.width[j]
}

// templates holds one averaged normal beat per lead, R at index pre, cut
// from the measurement signal (first-order baseline high-pass; see
// cleaner), which everything measured on the templates inherits. Each beat is added with its own baseline removed (see beatBaseline), so
// the template's PR segment sits at 0 whatever the baseline wander.
type templates struct {
	pre, post, length int
	data              [][]float32
	count             int
	width             float32 // QRS width of the template, ms
	scratch           []float32
	sv                []float32
	lead3             [3][]float32
	// prOff is the start of the PR-segment window, relative to the
	// fiducial, and prLen its length (samples): the 20 ms before QRS
	// onset once the template is delineated, 80–60 ms before R until then.
	prOff, prLen int
}

// prWindowS is the length of the PR-segment (isoelectric) window, and
// prDefaultS where it starts, before R, until QRS onset is measured.
const (
	prWindowS  = 0.02
	prDefaultS = 0.08
)

func newTemplates(nlead int, fs float64) templates {
	t := templates{pre: int(tmplPre * fs), post: int(tmplPost * fs)}
	t.prLen = max(2, int(prWindowS*fs))
	t.prOff = -int(prDefaultS * fs)
	t.length = t.pre + t.post
	t.data = make([][]float32, nlead)
	for i := range t.data {
		t.data[i] = make([]float32, t.length)
	}
	t.scratch = make([]float32, t.length)
	for i := range t.lead3 {
		t.lead3[i] = make([]float32, t.length)
	}
	t.sv = make([]float32, t.length)
	return t
}

func (t *templates) bytes() int { return 4 * t.length * (len(t.data) + 5) }

// fused handles one beat accepted by fusion: label it, record it, queue it
// for the template and emit it.
func (s *Stream) fused(dst []Event, b Beat) []Event {
	s.lastFused = b.Sample
	s.shift, s.fid = 0, b.Sample
	width, corr, ok := s.qrsShape(b.Sample)
	b.Label = s.label(b.Sample, width, corr, ok)
	if s.tmpl.count < 3 {
		corr = float32(math.NaN())
	}
	s.hist.push(b.Sample, s.fid+int64(s.shift), b.Label, width, corr, s.pWave())
	// A template seeded on an ectopic or badly aligned beat would label
	// every later beat ventricular: twelve "ventricular" beats in a row
	// below 100/min are not a tachycardia, so reseed the template.
	if s.hist.n >= 12 && s.tmpl.count >= 3 && s.recentHR(11) < 100 {
		all := true
		for i := range 12 {
			if _, l, _ := s.hist.at(i); l != LabelVentricular {
				all = false
				break
			}
		}
		if all {
			s.tmpl.count = 0
			s.measOK = false
		}
	}
	if len(s.pend) < cap(s.pend) {
		s.pend = append(s.pend, s.fid+int64(s.shift))
		s.pendLbl = append(s.pendLbl, b.Label)
	}
	dst = append(dst, Event{Kind: EventBeat, Beat: b})
	return s.onBeat(dst, b, width)
}

// pWave reports whether the stretch 300–80 ms before the last beat's
// fiducial matches the template's P wave (correlation ≥ 0.5 on the lead
// with the largest template P, both from the measurement signal): 1 yes, 0 no, −1 when the template has no
// measurable P wave or the signal is not held.
func (s *Stream) pWave() int8 {
	if !s.measOK || s.meas.PRms == 0 || s.tmpl.count < 3 {
		return -1
	}
	t := &s.tmpl
	lo, hi := t.pre-int(0.3*s.fs), t.pre-int(0.08*s.fs)
	if lo < 0 || hi <= lo+4 {
		return -1
	}
	mask, _ := s.usableLeads()
	best, amp := -1, float32(0)
	for l := range s.nlead {
		if mask&(1<<uint(l)) == 0 {
			continue
		}
		d := t.data[l][lo:hi]
		mn, mx := d[0], d[0]
		for _, v := range d {
			mn, mx = min(mn, v), max(mx, v)
		}
		if mx-mn > amp {
			best, amp = l, mx-mn
		}
	}
	if best < 0 || amp < 0.05 {
		return -1
	}
	seg := t.lead3[0][:hi-lo]
	if !s.clean[best].meas.Copy(seg, s.fid-int64(t.pre-lo)) {
		return -1
	}
	if pearson(seg, t.data[best][lo:hi]) >= 0.5 {
		return 1
	}
	return 0
}

// pearson returns the correlation coefficient of a and b (same length),
// or 0 when either is constant.
func pearson(a, b []float32) float64 {
	num, da, db := addCentredProducts(a, b, 0, 0, 0)
	if da == 0 || db == 0 {
		return 0
	}
	return num / math.Sqrt(da*db)
}

// label classifies a beat from its QRS width (ms), its correlation with
// the template and its prematurity.
func (s *Stream) label(r int64, width, corr float32, ok bool) Label {
	_, usable := s.usableLeads()
	if !ok || usable == 0 {
		return LabelUnclassifiable
	}
	allNoisy := true
	for _, q := range s.lastQ {
		if q == QualityGood {
			allNoisy = false
		}
	}
	if allNoisy {
		return LabelUnclassifiable
	}
	if s.tmpl.count < 3 {
		if width >= widthWideMS+widthExtraMS {
			return LabelVentricular
		}
		return LabelNormal
	}
	if (corr < corrVentricular && width >= 100) || (width >= widthWideMS && width >= s.tmpl.width+widthExtraMS) {
		return LabelVentricular
	}
	if !s.rh.irregular && s.hist.n >= 4 {
		prev, _, _ := s.hist.at(0)
		rr := float32(r - prev)
		if ref := s.prevailingRR(); ref > 0 && rr < prematureRatio*ref {
			return LabelSupraventricular
		}
	}
	return LabelNormal
}

// prevailingRR returns the RR interval (samples) of the rhythm around the
// newest beats: the median of the last (up to eight) intervals between
// consecutive beats neither of which is ventricular, or 0 with fewer than
// four. Supraventricular beats count, so that a run of beats that all come
// "early" against an older rate (the sinus rate settling higher, or beats
// after a pause) becomes the rate they are measured against after a few
// beats instead of being called premature for good; the median keeps a
// pause, or the short and long intervals around single premature beats,
// from moving it. (Prematurity against the local average RR is how beat
// classifiers commonly read it, e.g. de Chazal et al., IEEE TBME 2004.)
func (s *Stream) prevailingRR() float32 {
	var rr [8]float32
	k := 0
	for i := 0; i+1 < s.hist.n && k < len(rr); i++ {
		a, la, _ := s.hist.at(i)
		b, lb, _ := s.hist.at(i + 1)
		if la == LabelVentricular || lb == LabelVentricular {
			continue
		}
		v := float32(a - b)
		j := k
		for j > 0 && rr[j-1] > v {
			rr[j] = rr[j-1]
			j--
		}
		rr[j] = v
		k++
	}
	if k < 4 {
		return 0
	}
	if k%2 == 1 {
		return rr[k/2]
	}
	return (rr[k/2-1] + rr[k/2]) / 2
}

// meanNormalRR returns the mean RR (samples) between consecutive normal
// beats in the history, or 0.
func (s *Stream) meanNormalRR() float32 {
	var sum float32
	k := 0
	for i := 0; i+1 < s.hist.n && k < 8; i++ {
		a, la, _ := s.hist.at(i)
		b, lb, _ := s.hist.at(i + 1)
		if la == LabelNormal && lb == LabelNormal {
			sum += float32(a - b)
			k++
		}
	}
	if k == 0 {
		return 0
	}
	return sum / float32(k)
}

// qrsShape measures the QRS width (ms) of the beat at r from the spatial
// velocity of the clean signal over usable leads, and its correlation with
// the template over the three leads with the largest template QRS (read
// from the measurement signal, like the template it is compared with).
func (s *Stream) qrsShape(r int64) (width, corr float32, ok bool) {
	half := int(0.15 * s.fs)
	n := 2*half + 1
	if n > len(s.tmpl.scratch) {
		n = len(s.tmpl.scratch)
		half = (n - 1) / 2
	}
	sv := s.tmpl.sv[:n]
	clear(sv)
	seg := s.tmpl.scratch[:n]
	mask, _ := s.usableLeads()
	got := false
	for l := range s.nlead {
		if mask&(1<<uint(l)) == 0 {
			continue
		}
		if !s.clean[l].ring.Copy(seg, r-int64(half)) {
			continue
		}
		got = true
		for k := 1; k < n; k++ {
			d := seg[k] - seg[k-1]
			if d < 0 {
				d = -d
			}
			sv[k] += d
		}
	}
	if !got {
		return 0, 0, false
	}
	on, off, pk := qrsBounds(sv, half, s.fs)
	width = float32(float64(off-on) * 1000 / s.fs)
	// Align on the peak of the spatial velocity, which unlike the largest
	// deflection does not jump between R and S waves from beat to beat.
	r += int64(pk - half)
	s.fid = r
	if s.tmpl.count < 3 {
		return width, 1, true
	}
	// Correlation over R ± 100 ms on up to three leads with the largest
	// template amplitude, maximised over shifts of up to ±40 ms so that a
	// beat located on its S wave instead of its R wave still matches.
	w := int(0.1 * s.fs)
	maxShift := int(0.04 * s.fs)
	stride := max(1, maxShift/10)
	best := s.bestLeads(mask)
	span := 2*w + 1
	if span+2*maxShift > len(s.tmpl.scratch) {
		return width, 0, true
	}
	var segs [3][]float32
	for i, l := range best {
		if l < 0 || !s.clean[l].meas.Copy(s.tmpl.lead3[i][:span+2*maxShift], r-int64(w+maxShift)) {
			continue
		}
		segs[i] = s.tmpl.lead3[i][:span+2*maxShift]
	}
	bestCorr := float32(-1)
	for sh := -maxShift; sh <= maxShift; sh += stride {
		var num, da, db float64
		for i, l := range best {
			if segs[i] == nil {
				continue
			}
			x := segs[i][maxShift+sh : maxShift+sh+span]
			t := s.tmpl.data[l][s.tmpl.pre-w : s.tmpl.pre+w+1]
			num, da, db = addCentredProducts(x[:len(t)], t, num, da, db)
		}
		if da > 0 && db > 0 {
			if c := float32(num / math.Sqrt(da*db)); c > bestCorr {
				bestCorr, s.shift = c, sh
			}
		}
	}
	if bestCorr < -0.5 {
		return width, 0, true
	}
	return width, bestCorr, true
}

// bestLeads returns up to three usable leads with the largest template
// QRS peak-to-peak amplitude (−1 for none).
func (s *Stream) bestLeads(mask uint32) [3]int {
	best := [3]int{-1, -1, -1}
	var amp [3]float32
	w := int(0.1 * s.fs)
	for l := range s.nlead {
		if mask&(1<<uint(l)) == 0 {
			continue
		}
		t := s.tmpl.data[l][s.tmpl.pre-w : s.tmpl.pre+w+1]
		mn, mx := t[0], t[0]
		for _, v := range t {
			mn, mx = min(mn, v), max(mx, v)
		}
		a := mx - mn
		for k := range 3 {
			if best[k] < 0 || a > amp[k] {
				copy(best[k+1:], best[k:2])
				copy(amp[k+1:], amp[k:2])
				best[k], amp[k] = l, a
				break
			}
		}
	}
	return best
}

// qrsBounds returns the QRS onset and offset indices in the spatial
// velocity sv around index c: the first points either side of the largest
// velocity near c where the velocity, smoothed over 12 ms, stays below
// 12 % of the range between its floor and peak for 12 ms (2 samples at
// least).
func qrsBounds(sv []float32, c int, fs float64) (on, off, pk int) {
	w := max(2, int(math.Round(0.012*fs)))
	sm := func(k int) float32 { return meanAround(sv, k, w) }
	lo, hi := max(1, c-int(0.08*fs)), min(len(sv)-1, c+int(0.08*fs))
	peak := float32(0)
	pk = c
	for k := lo; k <= hi; k++ {
		if v := sm(k); v > peak {
			peak, pk = v, k
		}
	}
	floor := peak
	for k := 1; k < len(sv); k++ {
		floor = min(floor, sm(k))
	}
	thr := floor + 0.12*(peak-floor)
	on, off = 1, len(sv)-1
	run := 0
	for k := pk; k >= 1; k-- {
		if sm(k) < thr {
			run++
			if run >= w {
				on = k + w - 1
				break
			}
		} else {
			run = 0
		}
	}
	run = 0
	for k := pk; k < len(sv); k++ {
		if sm(k) < thr {
			run++
			if run >= w {
				off = k - w + 1
				break
			}
		} else {
			run = 0
		}
	}
	return on, off, pk
}

// intrudes reports whether a ventricular or premature beat follows the
// beat at r within the template span.
func (s *Stream) intrudes(r int64) bool {
	mean := s.meanNormalRR()
	for i := 0; i < s.hist.n; i++ {
		b, l, _ := s.hist.at(i)
		if b <= r+int64(s.fs*fuseWindow) {
			break
		}
		if b-r > int64(s.tmpl.post) {
			continue
		}
		if l == LabelVentricular || (mean > 0 && float32(b-r) < prematureRatio*mean) {
			return true
		}
	}
	return false
}

// flushPending adds beats whose post-R span is now available to the
// templates, and re-measures every few beats.
func (s *Stream) flushPending(dst []Event, final bool) []Event {
	t := &s.tmpl
	// Wait until every beat within the template span after r has been
	// fused, so that a beat followed by a premature or ventricular beat
	// inside its own span (which would smear that beat into the ST segment
	// and T wave of the average) can be left out; and, for the baseline
	// under the beat, until the next beat has been fused too, or for as
	// long as the measurement-signal ring still holds the beat's span.
	lag := int64(t.post) + int64((MaxLatency+fuseSlack+fuseWindow)*s.fs)
	wait := max(lag, int64(s.clean[0].meas.Cap()-t.pre-int(knotMarginS*s.fs)))
	refN := int64(refractory * s.fs)
	k := 0
	for ; k < len(s.pend); k++ {
		r := s.pend[k]
		ready := r+lag <= s.n && (s.lastFused > r+refN || r+wait <= s.n)
		if !ready && !(final && r+int64(t.post) <= s.n) {
			break
		}
		if s.pendLbl[k] != LabelNormal || s.intrudes(r) {
			continue
		}
		prev, next, okPrev, okNext := s.hist.neighbours(r, refN, int64(maxKnotGapS*s.fs))
		other, okOther := next, okNext
		if !okNext {
			other, okOther = prev, okPrev
		}
		if !s.typical(r, other, okOther) {
			continue
		}
		mask, _ := s.usableLeads()
		ok := true
		for l := range s.nlead {
			if mask&(1<<uint(l)) != 0 && !s.clean[l].meas.Copy(t.scratch, r-int64(t.pre)) {
				ok = false
			}
		}
		if !ok {
			continue
		}
		t.count++
		alpha := float32(1) / float32(min(t.count, templateBeats))
		for l := range s.nlead {
			if !s.clean[l].meas.Copy(t.scratch, r-int64(t.pre)) {
				continue
			}
			// The baseline polynomial by forward differences: b is its
			// value at sample i, db the step to i+1, which grows by dd.
			bl := s.beatBaseline(l, r, prev, next, okPrev, okNext)
			x0 := float64(-t.pre)
			b := bl.at(x0)
			db, dd := bl.at(x0+1)-b, 2*bl.d2
			d := t.data[l]
			for i, v := range t.scratch {
				d[i] += alpha * (v - float32(b) - d[i])
				b += db
				db += dd
			}
		}
		s.sinceMeas++
	}
	s.pend = s.pend[:copy(s.pend, s.pend[k:])]
	s.pendLbl = s.pendLbl[:copy(s.pendLbl, s.pendLbl[k:])]
	if final {
		s.pend, s.pendLbl = s.pend[:0], s.pendLbl[:0]
	}
	if t.count >= 3 && (s.sinceMeas >= 8 || (final && s.sinceMeas > 0) || (!s.measOK && s.sinceMeas > 0)) {
		s.sinceMeas = 0
		s.meas, s.measOK = s.measure(), true
		t.width = float32(s.meas.qrsWidth12)
		dst = s.onMeasure(dst)
	}
	return dst
}

// templateCorr is the least QRS correlation a beat needs to join the
// template: with the template, or, while the template has fewer than three
// beats, with the next normal beat (the previous one at the end of a
// record). It keeps a narrow ectopic or
// aberrant beat that passed as normal (early in a record nothing to
// compare with labels it so) out of the average, where with exponential
// averaging it would bias the ST levels for many beats.
const templateCorr = 0.85

// typical reports whether the beat at r may join the template (see
// templateCorr); other is the neighbour to compare it with when there is
// no template yet.
func (s *Stream) typical(r, other int64, okOther bool) bool {
	if c := s.hist.corrOf(r); c == c {
		return c >= templateCorr
	}
	if !okOther {
		return true
	}
	t := &s.tmpl
	w := int(0.1 * s.fs)
	n := 2*w + 1
	a, b := t.lead3[0][:n], t.lead3[1][:n]
	mask, _ := s.usableLeads()
	var num, da, db float64
	for l := range s.nlead {
		if mask&(1<<uint(l)) == 0 || !s.clean[l].ring.Copy(a, r-int64(w)) || !s.clean[l].ring.Copy(b, other-int64(w)) {
			continue
		}
		num, da, db = addCentredProducts(a, b, num, da, db)
	}
	if da == 0 || db == 0 {
		return true
	}
	return num/math.Sqrt(da*db) >= templateCorr
}

// Baseline knots. A beat's baseline is drawn through the PR-segment
// levels ("knots") of the beat and of its normal neighbours no more than
// maxKnotGapS away; the flush waits for the next beat at most until the
// ring holds only knotMarginS more than the beat's span.
const (
	maxKnotGapS = 2.0
	knotMarginS = 0.3
)

// baseline is a polynomial of degree 0 to 2 through up to three knots,
// in Newton form: y0 + d1·(x−x0) + d2·(x−x0)(x−x1), x in samples
// relative to the beat's fiducial.
type baseline struct {
	x0, x1, y0, d1, d2 float64
}

func (b baseline) at(x float64) float64 {
	return b.y0 + (x-b.x0)*(b.d1+b.d2*(x-b.x1))
}

// knot returns lead l's mean over the PR window of the beat whose aligned
// fiducial is fid, and whether the ring still holds it.
func (s *Stream) knot(l int, fid int64) (float64, bool) {
	t := &s.tmpl
	from := fid + int64(t.prOff)
	var sum float64
	for k := from; k < from+int64(t.prLen); k++ {
		v, ok := s.clean[l].meas.Abs(k)
		if !ok {
			return 0, false
		}
		sum += float64(v)
	}
	return sum / float64(t.prLen), true
}

// beatBaseline returns the baseline of lead l under the beat at r: the
// curve through the PR-segment levels of the previous normal beat, this
// beat and the next normal beat (quadratic with all three, a line with
// two, a constant with this beat's alone). Removing it beat by beat,
// before averaging, is the PR-knot method of baseline estimation (Meyer
// & Keiser, Comput Biomed Res 1977;10:459, there with cubic splines): it
// takes out respiration and electrode drift under the ST segment without
// filtering the ECG, so the ST level keeps its low-frequency content
// (which a high-pass above 0.05 Hz would distort; Kligfield et al.,
// Circulation 2007;115:1306).
func (s *Stream) beatBaseline(l int, r, prev, next int64, okPrev, okNext bool) baseline {
	c := float64(s.tmpl.prOff) + float64(s.tmpl.prLen-1)/2
	var xs, ys [3]float64
	m := 0
	add := func(fid int64) {
		if v, ok := s.knot(l, fid); ok {
			xs[m], ys[m] = float64(fid-r)+c, v
			m++
		}
	}
	if okPrev {
		add(prev)
	}
	add(r)
	if okNext {
		add(next)
	}
	var b baseline
	switch m {
	case 0:
		return b
	case 1:
		b.y0 = ys[0]
		return b
	}
	b.x0, b.x1, b.y0 = xs[0], xs[1], ys[0]
	b.d1 = (ys[1] - ys[0]) / (xs[1] - xs[0])
	if m == 3 {
		d12 := (ys[2] - ys[1]) / (xs[2] - xs[1])
		b.d2 = (d12 - b.d1) / (xs[2] - xs[0])
	}
	return b
}

// meanAround is the mean of sv over the w+1 samples centred on k (fewer at
// the edges): the smoothing the QRS-bound searches apply to the velocity.
func meanAround(sv []float32, k, w int) float32 {
	var s float32
	n := 0
	for j := max(0, k-w/2); j <= k+w/2 && j < len(sv); j++ {
		s += sv[j]
		n++
	}
	if n == 0 {
		return 0
	}
	return s / float32(n)
}

// addCentredProducts adds to num, da and db the sums Σab, Σa² and Σb² of a
// and b (equal lengths) after removing each one's mean: the pieces of a
// Pearson correlation pooled over several leads.
func addCentredProducts(a, b []float32, num, da, db float64) (float64, float64, float64) {
	var ma, mb float64
	for i := range a {
		ma += float64(a[i])
		mb += float64(b[i])
	}
	ma /= float64(len(a))
	mb /= float64(len(a))
	for i := range a {
		x, y := float64(a[i])-ma, float64(b[i])-mb
		num += x * y
		da += x * x
		db += y * y
	}
	return num, da, db
}
