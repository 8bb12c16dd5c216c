// Package clinic holds Yizhu's domain types: the patients, encounters and
// utterances that come in, the notes, findings and alerts that go out, and
// the error type that crosses every boundary. It imports only the standard
// library; every other package in the module speaks in these types.
//
// # Patients and encounters
//
// A [Patient] is seen in an [Encounter] (a kiosk visit, an outpatient visit,
// an inpatient stay). What was said in an encounter is a list of
// [Utterance] values, each with a stable ID so that drafted text can point
// back to it.
//
// # Notes, statements and sources
//
// A [Note] is a clinical document (门诊病历, 入院记录, …) made of [Section]
// values, each a list of [Statement] values. Every statement carries the
// [Source] items (utterance IDs, data items, guideline chunks) that support
// it; a statement with no source is marked Unsupported and is never shown as
// fact. A note is a draft until a clinician signs it (principle 4 of
// DESIGN.md); every version is kept.
//
// # Safety levels
//
// [Acuity] is the national 4-level emergency pre-triage scale. Rules set a
// floor; an LLM may raise the level but never lower it (see [Acuity.Raise]).
//
// # Tools
//
// A [Tool] is a capability a core package offers to the agents (the
// guideline search, the ECG analysis): name, description, argument schema
// and call. The agents runtime uses the same type, so the offering packages
// need not import it.
//
// # Errors
//
// [Error] is the one error type that crosses package boundaries. It carries
// a stable [Code], the offending field and a message in English and Chinese.
// [ErrorCode] maps any error to its code, [CodeInternal] for foreign errors.
// Codes are append-only.
package clinic
