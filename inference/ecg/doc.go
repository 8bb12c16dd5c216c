// Package ecg is Yizhu's streaming ECG core: it turns multi-lead ECG
// samples, fed chunk by chunk (Stream) or as a whole record (Analyze),
// into a structured pre-read (预读报告) for the reading doctor and
// critical-value (危急值) alerts, in bounded state per stream.
//
// Per lead, a causal detector (detector.go) removes baseline wander and
// powerline hum, band-passes the signal, finds QRS complexes with bounded
// latency (MaxLatency after the R peak) and classes signal quality (good,
// noisy, lead off). It keeps two diagnostic-band copies of its lead
// (0.05 Hz high-pass, mains notch, 40 Hz low-pass) that differ only in
// the high-pass: detection and fusion read the clean signal (second
// order); templates and every amplitude measured on them read the
// measurement signal (first order), which meets the IEC 60601-2-25 /
// AAMI EC11 low-frequency impulse limits (≤ 0.1 mV displacement,
// ≤ 0.3 mV/s slope after 3 mV × 100 ms). Beats of the leads are fused into one beat stream,
// weighting each lead by how often the others confirm it, and labelled
// normal, ventricular or supraventricular ectopic (AAMI classes) against
// an averaged normal beat; a beat is premature against the prevailing RR
// (the median of the recent non-ventricular intervals), so a pause or a
// new sinus rate does not make the beats after it ectopic. Rhythms are
// named by that rate; the rate alerts read the mean rate, pauses included.
//
// The averaged beat is built from normal beats, each with its own
// baseline (a curve through the PR segments of it and its neighbours)
// removed; ectopic and early-followed beats stay out. On it the core
// measures HR, RR, PR, QRS, QT and QTc (Bazett, Fridericia), per lead the
// ST level at the J point and at J+60 ms (J+80 ms below 100/min) against
// the PR baseline, the R and S amplitudes, and the Q waves of infarction
// (4th UDMI criteria, qwave.go).
//
// Rhythm episodes (sinus, bradycardia, tachycardia, atrial fibrillation,
// ventricular tachycardia and fibrillation, asystole, bigeminy,
// trigeminy) come from the beat stream and, for fibrillation, from the
// waveform of every good lead. Critical values are rules in data
// (rules.json, each with its source): STEMI pattern (with the modified
// Sgarbossa rule when the QRS is wide), sustained VT, VF, pause or
// asystole of 3 s or more, third-degree AV block, sustained heart rate
// below 40 or above 180/min, long QTc with R-on-T. Every alert carries
// leads, times and measured values as evidence. Noise and lead-off never
// raise one: a lead that is not of good quality cannot, and rhythm
// criticals need agreement of the leads or demonstrated waves.
//
// Reports are drafts for a clinician, never a final diagnosis.
package ecg
