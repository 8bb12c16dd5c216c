package dsp

import "fmt"

// Ring is a fixed-capacity FIFO of float32 samples that overwrites its
// oldest sample when full. It allocates only in NewRing. The sample with
// absolute index i (0 = first pushed) always sits at buf[i mod len(buf)],
// which is what lets View describe an earlier state of the ring.
type Ring struct {
	buf  []float32
	head int // index of the next write: tot mod len(buf)
	n    int // samples held, ≤ Cap()
	tot  int64
	lim  int // a view's capacity (see View); 0 for a ring
}

// NewRing returns an empty ring holding at most n samples. It panics if
// n < 1.
func NewRing(n int) *Ring {
	if n < 1 {
		panic(fmt.Sprintf("dsp: NewRing: capacity %d < 1", n))
	}
	return &Ring{buf: make([]float32, n)}
}

// NewRingOn returns an empty ring that keeps its samples in buf, holding
// at most len(buf) of them; buf's contents are ignored, so a recycled
// buffer needs no clearing. It panics if len(buf) < 1.
func NewRingOn(buf []float32) *Ring {
	if len(buf) < 1 {
		panic(fmt.Sprintf("dsp: NewRingOn: capacity %d < 1", len(buf)))
	}
	return &Ring{buf: buf}
}

// View makes v a read-only view of r as it was when it held the samples
// below absolute index end, with capacity lim (≤ Cap()): v holds the last
// min(end, lim) of them and shares r's buffer. Another goroutine may keep
// pushing to r meanwhile, provided the samples v holds were pushed before
// (in the memory-model sense) and r stays fewer than Cap()−lim samples
// ahead of end, so that none of them is overwritten. Pushing to v panics.
func (r *Ring) View(v *Ring, end int64, lim int) {
	if lim < 1 || lim > r.Cap() || end < 0 {
		panic(fmt.Sprintf("dsp: Ring.View: capacity %d outside [1, %d] or end %d < 0", lim, r.Cap(), end))
	}
	*v = Ring{buf: r.buf, head: int(end % int64(len(r.buf))), n: int(min(end, int64(lim))), tot: end, lim: lim}
}

// Push appends x, dropping the oldest sample when the ring is full.
func (r *Ring) Push(x float32) {
	r.writable()
	r.buf[r.head] = x
	r.head++
	if r.head == len(r.buf) {
		r.head = 0
	}
	if r.n < len(r.buf) {
		r.n++
	}
	r.tot++
}

// PushSlice appends the samples of x in order, as len(x) calls of Push
// would, with at most two bulk copies.
func (r *Ring) PushSlice(x []float32) {
	r.writable()
	if len(x) >= len(r.buf) {
		// Only the newest len(buf) samples survive; the oldest of them
		// lands where the next write would go.
		r.tot += int64(len(x))
		x = x[len(x)-len(r.buf):]
		r.head = int(r.tot % int64(len(r.buf)))
		k := copy(r.buf[r.head:], x)
		copy(r.buf, x[k:])
		r.n = len(r.buf)
		return
	}
	k := copy(r.buf[r.head:], x)
	if k < len(x) {
		copy(r.buf, x[k:])
	}
	r.head += len(x)
	if r.head >= len(r.buf) {
		r.head -= len(r.buf)
	}
	r.n = min(r.n+len(x), len(r.buf))
	r.tot += int64(len(x))
}

// writable panics on a view.
func (r *Ring) writable() {
	if r.lim != 0 {
		panic("dsp: Ring: push to a view")
	}
}

// Len returns the number of samples held.
func (r *Ring) Len() int { return r.n }

// Cap returns the capacity.
func (r *Ring) Cap() int {
	if r.lim != 0 {
		return r.lim
	}
	return len(r.buf)
}

// Total returns the number of samples ever pushed since the last Reset; the
// newest sample has absolute index Total()−1.
func (r *Ring) Total() int64 { return r.tot }

// Ago returns the sample pushed k pushes ago (k = 0 is the newest). It
// panics unless 0 ≤ k < Len().
func (r *Ring) Ago(k int) float32 {
	if k < 0 || k >= r.n {
		panic(fmt.Sprintf("dsp: Ring.Ago: %d outside [0, %d)", k, r.n))
	}
	i := r.head - 1 - k
	if i < 0 {
		i += len(r.buf)
	}
	return r.buf[i]
}

// Abs returns the sample with absolute index idx (0 = first pushed) and
// whether it is still held.
func (r *Ring) Abs(idx int64) (float32, bool) {
	k := r.tot - 1 - idx
	if k < 0 || k >= int64(r.n) {
		return 0, false
	}
	i := r.head - 1 - int(k)
	if i < 0 {
		i += len(r.buf)
	}
	return r.buf[i], true
}

// Copy writes the samples with absolute indices [from, from+len(dst)) into
// dst and reports whether all of them were still held; on false dst is
// unchanged.
func (r *Ring) Copy(dst []float32, from int64) bool {
	if len(dst) == 0 {
		return true
	}
	oldest := r.tot - int64(r.n)
	if from < oldest || from+int64(len(dst)) > r.tot {
		return false
	}
	// Physical index of from: the newest sample (tot−1) sits at head−1.
	j := r.head - int(r.tot-from)
	if j < 0 {
		j += len(r.buf)
	}
	k := copy(dst, r.buf[j:])
	copy(dst[k:], r.buf)
	return true
}

// Window copies the held samples with absolute indices in [from, to]
// into dst and returns them and the index of the first; the range is
// clipped to what the ring holds and to len(dst) samples from its start.
func (r *Ring) Window(dst []float32, from, to int64) ([]float32, int64) {
	from = max(from, r.tot-int64(r.n))
	to = min(to, r.tot-1, from+int64(len(dst))-1)
	if to < from {
		return dst[:0], from
	}
	dst = dst[:to-from+1]
	r.Copy(dst, from)
	return dst, from
}

// Reset empties the ring.
func (r *Ring) Reset() {
	r.writable()
	clear(r.buf)
	r.head, r.n, r.tot = 0, 0, 0
}
