package scribe

import "github.com/yizhu-health/yizhu/clinic"

// Section keys. Chinese and English notes share keys where the content is
// the same, so edit distances and the review page compare like with like.
const (
	SecChiefComplaint  = "chief_complaint"   // 主诉 / Chief complaint
	SecPresentIllness  = "present_illness"   // 现病史 / History of present illness
	SecPastHistory     = "past_history"      // 既往史 / Past medical history
	SecMedications     = "medications"       // 用药史 / Medications (English SOAP)
	SecAllergies       = "allergies"         // 过敏史 / Allergies
	SecPersonalHistory = "personal_history"  // 个人史 / Social history
	SecFamilyHistory   = "family_history"    // 家族史 / Family history
	SecPhysicalExam    = "physical_exam"     // 体格检查 / Physical examination
	SecAuxiliary       = "auxiliary_exams"   // 辅助检查 / Results
	SecDiagnosis       = "diagnosis"         // 初步诊断 / Assessment
	SecPlan            = "plan"              // 处理意见 / Plan
	SecCaseFeatures    = "case_features"     // 病例特点
	SecDiagnosticBasis = "diagnostic_basis"  // 诊断依据与鉴别诊断
	SecCarePlan        = "care_plan"         // 诊疗计划
	SecCourse          = "course"            // 病情记录 (日常病程)
	SecAdmissionStatus = "admission_status"  // 入院情况
	SecHospitalCourse  = "hospital_course"   // 诊疗经过
	SecDischargeDx     = "discharge_dx"      // 出院诊断
	SecDischargeStatus = "discharge_status"  // 出院情况
	SecDischargeAdvice = "discharge_advice"  // 出院医嘱
	SecAdmissionDx     = "admission_dx"      // 入院诊断
	SecSubjective      = "subjective"        // SOAP S (progress, English)
	SecObjective       = "objective"         // SOAP O
	SecAssessment      = "assessment"        // SOAP A
	SecReviewOfSystems = "review_of_systems" // Review of systems (English)
)

// SectionDef is one section a note type has, in print order.
type SectionDef struct {
	Key   string `json:"key"`
	Title string `json:"title"`
	// Optional sections are left out of a draft when nothing supports
	// them (个人史/家族史 "when mentioned").
	Optional bool `json:"optional,omitempty"`
}

// sectionSpec is one section of a note type: its key, its title in each
// language ("" where that language's note has none), whether it may be
// left out, and how the embedded engine writes it. Each spec is written
// once and listed by the note types that print it (noteLayouts).
type sectionSpec struct {
	key      string
	zh, en   string
	optional bool
	write    func(*builder) []clinic.Statement
}

func (s sectionSpec) title(lang string) string {
	switch lang {
	case LangZH:
		return s.zh
	case LangEN:
		return s.en
	}
	return ""
}

// The history-taking sections are shared by 门诊病历 and 入院记录;
// review of systems and medications are sections of the English SOAP
// note only (门诊病历 writes drugs taken in 现病史, 入院记录 in 既往史).
var (
	chiefComplaintSpec  = sectionSpec{SecChiefComplaint, "主诉", "Chief Complaint", false, (*builder).chiefComplaint}
	presentIllnessSpec  = sectionSpec{SecPresentIllness, "现病史", "History of Present Illness", false, (*builder).presentIllness}
	reviewOfSystemsSpec = sectionSpec{SecReviewOfSystems, "", "Review of Systems", true, (*builder).reviewOfSystems}
	pastHistorySpec     = sectionSpec{SecPastHistory, "既往史", "Past Medical History", false, (*builder).pastHistory}
	medicationsSpec     = sectionSpec{SecMedications, "", "Medications", true, (*builder).medications}
	allergiesSpec       = sectionSpec{SecAllergies, "过敏史", "Allergies", false, (*builder).allergies}
	personalHistorySpec = sectionSpec{SecPersonalHistory, "个人史", "Social History", true, (*builder).habits}
	familyHistorySpec   = sectionSpec{SecFamilyHistory, "家族史", "Family History", true, (*builder).family}
	physicalExamSpec    = sectionSpec{SecPhysicalExam, "体格检查", "Physical Examination", false, itemsAndQuotes(&examCues, DataVital, DataExam)}
	auxiliarySpec       = sectionSpec{SecAuxiliary, "辅助检查", "Results", false, itemsAndQuotes(&resultCues, DataECG, DataLab, DataImaging)}
)

// noteLayouts lists the sections of each note type in print order.
var noteLayouts = map[clinic.NoteType][]sectionSpec{
	clinic.NoteOutpatient: {
		chiefComplaintSpec, presentIllnessSpec, reviewOfSystemsSpec, pastHistorySpec, medicationsSpec, allergiesSpec,
		personalHistorySpec, familyHistorySpec, physicalExamSpec, auxiliarySpec,
		{SecDiagnosis, "初步诊断", "Assessment", false, (*builder).diagnosis},
		{SecPlan, "处理意见", "Plan", false, itemsAndQuotes(&planCues, DataOrder, DataAdvice)},
	},
	clinic.NoteAdmission: {
		chiefComplaintSpec, presentIllnessSpec, pastHistorySpec, allergiesSpec,
		personalHistorySpec, familyHistorySpec, physicalExamSpec, auxiliarySpec,
		{SecAdmissionDx, "入院诊断", "Admission Diagnosis", false, (*builder).diagnosis},
	},
	clinic.NoteFirstCourse: {
		{SecCaseFeatures, "病例特点", "Case Summary", false, (*builder).caseFeatures},
		{SecDiagnosticBasis, "诊断依据与鉴别诊断", "Diagnostic Reasoning and Differential", false, (*builder).diagnosticBasis},
		{SecCarePlan, "诊疗计划", "Plan of Care", false, itemsAndQuotes(&planCues, DataOrder, DataMedication, DataProcedure, DataAdvice)},
	},
	clinic.NoteProgress: {
		{SecSubjective, "病情记录", "Subjective", false, (*builder).subjective},
		{SecObjective, "查体及检查", "Objective", false, itemsAndQuotes(nil, resultDataKinds...)},
		{SecAssessment, "病情分析", "Assessment", false, (*builder).assessment},
		// The day's plan: orders and drugs, where 门诊病历's is orders and advice.
		{SecPlan, "处理计划", "Plan", false, itemsAndQuotes(&planCues, DataOrder, DataMedication)},
	},
	clinic.NoteDischarge: {
		{SecAdmissionStatus, "入院情况", "Condition on Admission", false, (*builder).admissionStatus},
		{SecHospitalCourse, "诊疗经过", "Hospital Course", false, itemsAndQuotes(nil, courseDataKinds...)},
		{SecDischargeDx, "出院诊断", "Discharge Diagnoses", false, (*builder).dischargeDx},
		{SecDischargeStatus, "出院情况", "Condition at Discharge", false, (*builder).dischargeStatus},
		{SecDischargeAdvice, "出院医嘱", "Discharge Instructions", false, itemsAndQuotes(nil, DataAdvice, DataOrder)},
	},
}

// layouts is noteLayouts by language: the sections a note type has in a
// language are those titled in it. Shared and read only.
var layouts = func() map[clinic.NoteType]map[string][]sectionSpec {
	out := make(map[clinic.NoteType]map[string][]sectionSpec, len(noteLayouts))
	for t, specs := range noteLayouts {
		out[t] = map[string][]sectionSpec{}
		for _, lang := range []string{LangZH, LangEN} {
			for _, s := range specs {
				if s.title(lang) != "" {
					out[t][lang] = append(out[t][lang], s)
				}
			}
		}
	}
	return out
}()

// Sections returns the sections of note type t in language lang (LangZH or
// LangEN), in print order, or nil for a type the scribe does not draft.
func Sections(t clinic.NoteType, lang string) []SectionDef {
	byLang, ok := layouts[t]
	if !ok {
		return nil
	}
	specs := byLang[lang]
	out := make([]SectionDef, len(specs))
	for i, s := range specs {
		out[i] = SectionDef{Key: s.key, Title: s.title(lang), Optional: s.optional}
	}
	return out
}

// NoteTypes lists the note types Draft supports.
func NoteTypes() []clinic.NoteType {
	return []clinic.NoteType{clinic.NoteOutpatient, clinic.NoteAdmission, clinic.NoteFirstCourse, clinic.NoteProgress, clinic.NoteDischarge}
}
