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
	label  [historyBeats]Label
	width  [historyBeats]float32 // QRS width, ms
	pwave  [historyBeats]int8    // 1 P wave like the template's, 0 none, −1 unknown
	n, i   int
}

func (h *beatHistory) push(s int64, l Label, w float32, p int8) {
	h.sample[h.i], h.label[h.i], h.width[h.i], h.pwave[h.i] = s, l, w, p
	h.i = (h.i + 1) % historyBeats
	h.n = min(h.n+1, historyBeats)
}

// at returns the k-th most recent beat (k = 0 newest).
func (h *beatHistory) at(k int) (int64, Label, float32) {
	j := (h.i - 1 - k + 2*historyBeats) % historyBeats
	return h.sample[j], h.label[j], h.width[j]
}

// templates holds one averaged normal beat per lead, R at index pre.
type templates struct {
	pre, post, length int
	data              [][]float32
	count             int
	width             float32 // QRS width of the template, ms
	scratch           []float32
	sv                []float32
	lead3             [3][]float32
}

func newTemplates(nlead int, fs float64) templates {
	t := templates{pre: int(tmplPre * fs), post: int(tmplPost * fs)}
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
	s.hist.push(b.Sample, b.Label, width, s.pWave())
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
// with the largest template P): 1 yes, 0 no, −1 when the template has no
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
	if !s.clean[best].ring.Copy(seg, s.fid-int64(t.pre-lo)) {
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
	var ma, mb float64
	for i := range a {
		ma += float64(a[i])
		mb += float64(b[i])
	}
	ma /= float64(len(a))
	mb /= float64(len(a))
	var num, da, db float64
	for i := range a {
		x, y := float64(a[i])-ma, float64(b[i])-mb
		num += x * y
		da += x * x
		db += y * y
	}
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
		if mean := s.meanNormalRR(); mean > 0 && rr < prematureRatio*mean {
			return LabelSupraventricular
		}
	}
	return LabelNormal
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
// the template over the three leads with the largest template QRS.
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
		if l < 0 || !s.clean[l].ring.Copy(s.tmpl.lead3[i][:span+2*maxShift], r-int64(w+maxShift)) {
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
			var ma, mb float64
			for k := range t {
				ma += float64(x[k])
				mb += float64(t[k])
			}
			ma /= float64(span)
			mb /= float64(span)
			for k := range t {
				a, b := float64(x[k])-ma, float64(t[k])-mb
				num += a * b
				da += a * a
				db += b * b
			}
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
	sm := func(k int) float32 {
		var s float32
		n := 0
		for j := k - w/2; j <= k+w/2; j++ {
			if j >= 0 && j < len(sv) {
				s += sv[j]
				n++
			}
		}
		return s / float32(n)
	}
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
	// and T wave of the average) can be left out.
	lag := int64(t.post) + int64((MaxLatency+fuseSlack+fuseWindow)*s.fs)
	k := 0
	for ; k < len(s.pend); k++ {
		r := s.pend[k]
		if r+lag > s.n && !(final && r+int64(t.post) <= s.n) {
			break
		}
		if s.pendLbl[k] != LabelNormal || s.intrudes(r) {
			continue
		}
		mask, _ := s.usableLeads()
		ok := true
		for l := range s.nlead {
			if mask&(1<<uint(l)) != 0 && !s.clean[l].ring.Copy(t.scratch, r-int64(t.pre)) {
				ok = false
			}
		}
		if !ok {
			continue
		}
		t.count++
		alpha := float32(1) / float32(min(t.count, templateBeats))
		for l := range s.nlead {
			if !s.clean[l].ring.Copy(t.scratch, r-int64(t.pre)) {
				continue
			}
			d := t.data[l]
			for i, v := range t.scratch {
				d[i] += alpha * (v - d[i])
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
		t.width = float32(s.meas.QRSms)
		dst = s.onMeasure(dst)
	}
	return dst
}
