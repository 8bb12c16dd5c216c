// Package wfdb reads ECG records: PhysioNet WFDB headers (.hea) with their
// signal files (formats 212, 16, 61, 80, 24 and 32, one or several files per
// record), WFDB headers over MATLAB v4 .mat signal files as used by the
// PhysioNet/CinC challenges, MIT-format annotation files (.atr) with their
// SKIP, NUM, SUB, CHN and AUX records, and CSV files with one column per
// lead.
//
// # Errors
//
// Every reader returns a *clinic.Error: code invalid for malformed input
// (its cause wraps [ErrFormat], so errors.Is(err, ErrFormat) holds), code
// too_large when a record exceeds [MaxSamples], not_found for a missing
// file. Readers never panic on input; each is fuzzed.
//
// # Units
//
// Samples are returned in physical units: (digital − baseline) / gain, with
// millivolt-like units (mV, uV, V) scaled to millivolts. A WFDB "invalid
// sample" value becomes NaN.
//
// The format is described in the WFDB documentation (header(5), signal(5),
// annot(5) man pages, PhysioNet); the code is written from that
// description.
package wfdb
