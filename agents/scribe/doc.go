// Package scribe is the record-drafting agent: it drafts outpatient records
// (门诊病历, or an English SOAP note) from the triage pre-consultation
// summary, the doctor–patient dialogue and attached results, and inpatient
// documents (入院记录, 首次病程记录, 日常病程记录, 出院记录) from encounter
// data — drafts that a clinician checks, edits and signs.
//
// # Provenance
//
// Every statement of a draft cites the utterances or data items that
// support it (clinic.Source). The verifier ([Engine.Verify], [Verify])
// re-reads each statement against exactly those sources: its numbers, its
// findings and drugs (by the vocabulary), their presence or absence, and
// any word it adds beyond the phrase templates; a statement that fails is
// marked Unsupported with a Reason and never shown as fact. An allergy
// statement may name only what its sources call an allergen. Sources that
// contradict each other (a patient denies allergies, then names one) yield
// an explicit conflict marker ([IsConflict]) instead of a choice.
//
// # Engines
//
// The embedded engine (the default) is extractive: it reads each turn for
// findings with negation and duration, drugs, allergies, history, habits
// and family history, and writes each section from the phrase templates
// in prompts/scribe_phrases.prompt; examination, results, diagnosis and
// plan are the clinician's own sentences. The vocabulary is kb/terms.yaml;
// besides its words the reader pairs a body site with what is felt there
// ("胸部两侧常会痛", "脚没肿": compose.go) and reads a reported heart rate,
// blood pressure, lipid or glucose value as the condition it names. A
// clinician's yes/no question is answered by the patient's reply: a bare
// "没有"/"no", the answering part before "就是/but", a later "偶尔会有",
// a duration ("三年了"), or "除了…没有别的"; findings the reply names
// itself are read on their own. In an allergy statement only what the
// patient is allergic to is an allergen, not a medicine they say they take
// ("没有，我一直在吃阿司匹林"); a rash or itching tied to a drug ("以前吃
// 头孢出过皮疹") is written in 过敏史 as a drug reaction, never as a present
// complaint. [Engine.Findings] adds a speaker-aware status for extraction
// evals (status.go): a clinician's teaching or hypothesis is not a finding
// of this patient, and a patient's general question about a condition
// ("房颤怎么办") does not say they have it.
//
// With a model configured, each section is asked of the LLM as structured
// JSON (prompts/scribe_section.prompt, validated), the same verifier runs,
// and any failure falls back to the embedded draft, flagged.
//
// # Output
//
// [FHIR] renders a FHIR R4 Composition, [Markdown] and [PlainText] plain
// documents; [EditDistance] measures, per section, how much a clinician
// changed the AI draft before signing.
//
// # Bounds
//
// Input size is bounded ([MaxUtterances], [MaxDialogueRunes], …); an empty
// dialogue, a single speaker or an unknown speaker label is a
// clinic.CodeInvalid error naming the field.
package scribe
