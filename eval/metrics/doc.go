// Package metrics computes the numbers Yizhu's eval suites report:
// classification scores (accuracy, top-k, per-class precision/recall/F1,
// macro and micro averages, confusion matrices), triage safety rates,
// beat-by-beat QRS detection statistics and rhythm episode statistics in
// the style of ANSI/AAMI EC57, ROUGE-1/2/L for drafted text, retrieval
// recall@k and MRR, and latency percentiles.
//
// Every function is pure and deterministic: the same inputs give the same
// numbers, label lists come out sorted, and a ratio whose denominator is
// zero is reported as 0 (never NaN, which JSON cannot carry). Inputs are
// never modified.
package metrics
