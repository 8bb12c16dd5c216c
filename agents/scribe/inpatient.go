package scribe

import (
	"slices"
	"strconv"
	"strings"

	"github.com/yizhu-health/yizhu/clinic"
)

var (
	// differentialWords mark a differential in either language.
	differentialWords = []string{"鉴别", "排除", "rule out", "differential", "less likely"}
	differentialCues  = cueSet{zh: differentialWords, en: differentialWords}
	courseDataKinds   = []string{DataCourse, DataProcedure, DataMedication}
	resultDataKinds   = []string{DataVital, DataExam, DataLab, DataECG, DataImaging}
)

// caseFeatures is 病例特点: who the patient is, why they were admitted,
// their history and results.
func (b *builder) caseFeatures() []clinic.Statement {
	out := b.patientLine()
	out = append(out, b.chiefComplaintReason()...)
	out = append(out, b.presentIllness()...)
	out = append(out, b.pastHistory()...)
	return append(out, b.dataItems(resultDataKinds...)...)
}

// subjective is the latest course entry and the patient's complaints.
func (b *builder) subjective() []clinic.Statement {
	out := b.latest(DataCourse)
	out = append(out, b.presentIllness()...)
	return out
}

// assessment is the working diagnosis and what the clinician said of it.
func (b *builder) assessment() []clinic.Statement {
	out := b.dataItemsRole(DataDiagnosis, "working", "admission", "")
	return append(out, b.quotes(&dxCues)...)
}

// admissionStatus cites the admission note's complaint, history and
// examination (or reads them from the dialogue), then the admission
// diagnosis.
func (b *builder) admissionStatus() []clinic.Statement {
	out := b.priorSections(SecChiefComplaint, SecPresentIllness, SecPhysicalExam)
	if len(out) == 0 {
		out = append(b.chiefComplaintReason(), b.presentIllness()...)
	}
	return append(out, b.dataItemsRole(DataDiagnosis, "admission")...)
}

// dischargeDx is the discharge diagnosis, else the working or admission one.
func (b *builder) dischargeDx() []clinic.Statement {
	out := b.dataItemsRole(DataDiagnosis, "discharge")
	if len(out) == 0 {
		out = b.dataItemsRole(DataDiagnosis, "working", "admission", "")
	}
	return out
}

// dischargeStatus is the latest condition entry.
func (b *builder) dischargeStatus() []clinic.Statement { return b.latest(DataCondition) }

func (b *builder) patientLine() []clinic.Statement {
	if b.in.Patient == nil {
		return nil
	}
	age := b.in.Patient.AgeYears(b.in.Encounter.StartedAt)
	if age < 0 || b.in.Encounter.StartedAt.IsZero() {
		return nil
	}
	sex := ""
	switch b.in.Patient.Sex {
	case clinic.SexMale:
		sex = map[bool]string{true: "男", false: "male"}[b.zh()]
	case clinic.SexFemale:
		sex = map[bool]string{true: "女", false: "female"}[b.zh()]
	default:
		return nil
	}
	text := b.t.fill("features_patient", b.lang, "sex", sex, "age", itoa(age))
	return []clinic.Statement{{Text: text, Sources: []clinic.Source{{Kind: clinic.SourceData, ID: PatientSourceID}}}}
}

func itoa(n int) string { return strconv.Itoa(n) }

// chiefComplaintReason is "因"…"入院" from the prior admission note's 主诉
// or the dialogue.
func (b *builder) chiefComplaintReason() []clinic.Statement {
	for i, t := range b.fs.turns {
		if t.prior == SecChiefComplaint {
			return []clinic.Statement{b.stmt(b.t.fill("features_reason", b.lang, "cc", strings.TrimRight(t.text, "。.")), []int{i})}
		}
	}
	cc := b.chiefComplaint()
	if len(cc) == 0 {
		return nil
	}
	cc[0].Text = b.t.fill("features_reason", b.lang, "cc", strings.TrimRight(cc[0].Text, "。."))
	return cc
}

// priorSections cites the statements of the given sections of prior notes.
func (b *builder) priorSections(keys ...string) []clinic.Statement {
	var out []clinic.Statement
	for i, t := range b.fs.turns {
		if t.prior != "" && slices.Contains(keys, t.prior) {
			out = append(out, b.stmt(t.text, []int{i}))
		}
	}
	return out
}

// latest is the most recent data item of kind (by At, then order).
func (b *builder) latest(kind string) []clinic.Statement {
	best := -1
	for i, d := range b.in.Data {
		if d.Kind != kind {
			continue
		}
		if best < 0 || !d.At.Before(b.in.Data[best].At) {
			best = i
		}
	}
	if best < 0 {
		return nil
	}
	d := b.in.Data[best]
	text := strings.TrimSpace(d.Text)
	if !d.At.IsZero() {
		text = b.t.fill("course_day", b.lang, "date", d.At.Format("2006-01-02"), "text", text)
	}
	return []clinic.Statement{b.stmt(text, []int{b.base + best})}
}

func (b *builder) diagnosticBasis() []clinic.Statement {
	var out []clinic.Statement
	dx := b.dataItemsRole(DataDiagnosis, "admission", "working", "")
	out = append(out, dx...)
	pos, _, _ := b.patientFindings(KindSymptom)
	var ev []string
	var srcs []int
	if len(pos.terms) > 0 {
		ev = append(ev, b.names(pos.terms)...)
		srcs = append(srcs, pos.allSrcs(pos.terms)...)
	}
	if len(ev) > 0 && len(dx) > 0 {
		out = append(out, b.stmt(b.t.fill("basis", b.lang, "text", b.list(ev)), srcs))
	}
	for i, t := range b.fs.turns {
		if t.prior == SecPresentIllness || t.prior == SecPhysicalExam {
			out = append(out, b.stmt(b.t.fill("basis", b.lang, "text", strings.TrimSpace(t.text)), []int{i}))
		}
	}
	for i, d := range b.in.Data {
		if slices.Contains(resultDataKinds, d.Kind) {
			out = append(out, b.stmt(b.t.fill("basis", b.lang, "text", strings.TrimSpace(d.Text)), []int{b.base + i}))
		}
	}
	out = append(out, b.quotes(&differentialCues)...)
	return out
}
