package dsp

import "fmt"

// Ring is a fixed-capacity FIFO of float32 samples that overwrites its
// oldest sample when full. It allocates only in NewRing.
type Ring struct {
	buf  []float32
	head int // index of the next write
	n    int // samples held, ≤ len(buf)
	tot  int64
}

// NewRing returns an empty ring holding at most n samples. It panics if
// n < 1.
func NewRing(n int) *Ring {
	if n < 1 {
		panic(fmt.Sprintf("dsp: NewRing: capacity %d < 1", n))
	}
	return &Ring{buf: make([]float32, n)}
}

// Push appends x, dropping the oldest sample when the ring is full.
func (r *Ring) Push(x float32) {
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

// Len returns the number of samples held.
func (r *Ring) Len() int { return r.n }

// Cap returns the capacity.
func (r *Ring) Cap() int { return len(r.buf) }

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
	return r.Ago(int(k)), true
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
	for i := range dst {
		k := int(r.tot - 1 - (from + int64(i)))
		j := r.head - 1 - k
		if j < 0 {
			j += len(r.buf)
		}
		dst[i] = r.buf[j]
	}
	return true
}

// Reset empties the ring.
func (r *Ring) Reset() {
	clear(r.buf)
	r.head, r.n, r.tot = 0, 0, 0
}
