// Package qcreview is the QC review agent: it reads a clinical record for
// content problems that documentation rules cannot see and returns them as
// suggestions for QC staff, each citing guideline passages found through
// the guideline store's search.
//
// # Checks
//
//   - QCR-001 现病史未围绕主诉 (complaint_unexplained): a chief-complaint
//     symptom or finding that the present illness never mentions.
//   - QCR-002 诊断缺乏依据 (diagnosis_unsupported): a diagnosis for which no
//     history, examination or test text gives a basis.
//   - QCR-003 异常结果未见处理 (plan_missing): an abnormal result (升高,
//     降低, 阳性, ↑, …) whose test the plan never takes up.
//
// The built-in engine runs these as heuristics over the vocabulary in
// kb/content.yaml (embedded; each table names its source). When the runner
// has a model, the qcreview_content prompt asks it for the same three
// checks as structured output; a reply that fails validation, quotes text
// that is not in the section it names, or does not come falls back to the
// heuristics, and the Review says so (Fallback, FallbackReason).
//
// # Suggestions, not scores
//
// Every finding has Suggestion set, deducts no points and never vetoes:
// the rule engine (package qc) alone scores and grades a record
// (principle 1 of DESIGN.md). Findings carry their check as the rule
// source and up to Config.K guideline chunks as SourceGuideline sources.
package qcreview
