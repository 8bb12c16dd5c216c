// Package qc is Yizhu's medical-record quality-control engine: it scans
// clinical records against documentation rules held as data, scores each
// record to 100 points and grades it 甲/乙/丙, and cites every defect to its
// rule, its source norm and its place in the text.
//
// # Records
//
// A [Record] is one document in the Yizhu QC JSONL form of DESIGN.md:
//
//	{"id": "…", "type": "admission" | "入院记录" | …,
//	 "department": "…", "patient": {"sex": "M", "age_years": 45},
//	 "sections": {"chief_complaint" | "主诉": "…", …},
//	 "events": {"admitted_at": "2024-05-01 08:00", "written_at": …},
//	 "signatures": [{"signer": "…", "role": "resident", "at": "…"}],
//	 "drugs": [{"name": "…", "class": "…"}], "allergies": ["青霉素"],
//	 "progress_notes": [{"at": "…", "signer": "…", "text": "…"}],
//	 "defects": ["ADM-013"]}
//
// Types map to clinic.NoteType; section titles in Chinese map to the keys of
// [KnownSections]. [Reader] streams JSONL with a bounded line size and
// reports bad lines as file:line errors without stopping; [FromNote] adapts a
// note signed through the scribe workflow.
//
// # Rules
//
// Rules are YAML files (rules/*.yaml, embedded; see [DefaultRules]) decoded
// strictly: an unknown field, record type, section, check kind or parameter
// is a load error naming the file, line and rule ID. Each rule has an ID,
// titles in Chinese and English, the source article it enforces, the record
// types it applies to, a severity, the points it deducts (per finding, at
// most max_points per record), a veto flag (单项否决) and one check of a
// built-in kind ([Kinds]): section_required, length, pattern, time_limit,
// event_required, signature, consistency (sex, age, allergy against the
// drug-class table), icd_normalisable, copy_paste, contradiction and
// note_interval.
//
// A hospital changes the rules without recompiling through an override file
// ([RuleSet.ApplyOverride]): "disable" lists rule IDs, a rule under "rules"
// with a known ID patches only the fields given (points, severity, veto,
// enabled, params), a new ID adds a rule, and "drug_classes" rows extend the
// table.
//
// # Sources
//
// The default rules cite 病历书写基本规范（卫医政发〔2010〕11号）by article
// (第八条 signatures, 第九条 times, 第十三–十五条 outpatient records, 第十八–
// 十九条 admission notes, 第二十二条 progress, rescue, operation and
// discharge records), 电子病历应用管理规范（试行）（国卫办医发〔2017〕8号）on
// copying and templates, and 处方管理办法 on allergy review. Point values and
// veto items follow the layout of the common provincial 100-point inpatient
// record scoring sheet (住院病历质量评分表, one block per document, deduction
// per missing or late item, a few 单项否决 items); the values themselves are
// this project's setting and a hospital re-weights them by override.
//
// # Scoring
//
// Score = 100 − the points deducted (not below 0). Grade 甲 ≥ 90, 乙 75–89,
// 丙 < 75; any veto finding forces 丙 ([GradeFor]). Findings are
// clinic.Finding values with a Location (section key and rune span; events,
// signatures, drugs and progress notes are addressed as "events/written_at",
// "signatures", "drugs/2", "progress_notes/1") and Sources naming the rule and
// its citation. Info findings (a time limit that cannot be checked for a
// missing timestamp, a coding rule without an ICD-10 list) deduct nothing. A
// check that fails at run time gives an "engine_error" finding for its rule
// and never stops the others.
//
// # Diagnosis coding
//
// icd_normalisable rules need a standard name list: [Config.ICD], or the ICD-10
// Beijing clinical edition v6.01 read from Config.DataDir (see package
// qc/icd). Without one those rules give an info finding and are skipped.
package qc
