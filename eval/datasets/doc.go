// Package datasets reads the public and in-house data sets that Yizhu's
// eval suites score against, in their published formats, into typed
// values: ACI-BENCH (and its metadata) and MTS-Dialog CSV, IMCS-21 JSON
// (and its symptom vocabulary and split), MIE cardiology JSON, PromptCBLUE
// JSON lines, the Chinese department CSV, KUAKE-QIC and CHIP-CDN JSON,
// Yidu-S4K EMR JSON lines, Avey/Semigran vignettes, the WS 445 EMR
// data-set element lists and Yizhu's own JSON-lines formats for notes,
// triage and QC (DESIGN.md). [Catalog] says where each lives in a data
// directory laid out like ../shared/data.
// ECG formats (WFDB) are read by inference/ecg/wfdb, not here.
//
// # Reading
//
// Every format has a scanner, a [ScanFunc], that streams the input and
// calls a function once per record, so a file of any length is read in
// bounded memory. [ReadAll] collects a scanner's records; [ScanFile] and
// [ReadFile] do the same for a path and give errors as file:line.
//
// # Errors and bounds
//
// Malformed input is an *clinic.Error with code invalid whose cause is a
// [*ParseError] naming the file and line (or byte offset); input past a
// [Limits] bound is code too_large. Readers never panic on input.
package datasets
