// Package triage is the registration and triage agent's embedded engine: it
// reads what a patient at a kiosk writes (Chinese or English), extracts the
// symptoms with their negation, duration, severity and body site, applies
// the national emergency pre-triage rules, asks at most a few follow-up
// questions and recommends up to three departments — or escalates at once
// when a red flag fires. It needs no LLM.
//
// # Data
//
// Everything clinical is data embedded from kb/ and replaceable by a
// hospital: the department catalog (kb/departments.yaml), the acuity rules
// with their sources (kb/acuity.yaml), the symptom lexicon with its
// follow-up questions (kb/lexicon.yaml) and the knowledge base that links
// findings to departments (kb/kb.yaml). Files are decoded strictly (unknown
// fields are errors) and validated before use.
//
// # Safety
//
// The acuity floor comes only from deterministic rules ([Rules.Assess]) and
// is combined with [clinic.Acuity.Raise], so nothing later in the session can
// make it less urgent. A red flag at level I or II ends the session with an
// escalation turn. Text that the engine cannot read (empty, emoji-only,
// non-medical, too long) gets a polite request to rephrase, never a guess.
//
// # Router
//
// A [Router] is a character n-gram (1–3) multinomial naive Bayes classifier
// fitted on a hospital's historical registrations ([Train]); when configured
// its department distribution is blended with the knowledge base's.
//
// # Evaluation
//
// [EvalRouting], [CrossValidate] and [EvalVignettes] measure department
// routing and acuity on labelled data; the eval harness wraps them as the
// suite "triage".
package triage
