// Package dsp holds the causal, streaming filters the ECG core is built
// from: second-order IIR sections (low-pass, high-pass, notch), a baseline
// wander remover, a powerline canceller, the QRS band-pass, a five-point
// derivative, moving-window integration and fixed-size ring buffers.
//
// # Conventions
//
// Every filter is a value with explicit state, built for one sampling rate
// and cut-off by its constructor and cleared by Reset. Step filters one
// sample; Process filters a block into dst, which comes first as in gonum:
// if dst is nil a new slice is allocated, otherwise len(dst) must equal
// len(src) (dst may alias src). Steady-state filtering allocates nothing.
//
// Frequencies are in Hz, sampling rates in Hz (samples per second) and
// samples in whatever unit the caller uses (mV in the ECG core); filters are
// linear, so the unit passes through unchanged.
//
// Programmer errors (a cut-off at or above the Nyquist frequency, a
// non-positive window length, a dst of the wrong length) panic with a
// "dsp: " prefix. Data never causes a panic: NaN in gives NaN out, and the
// state recovers after Reset.
//
// The package imports only the standard library.
package dsp
