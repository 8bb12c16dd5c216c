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

var sectionDefs = map[clinic.NoteType]map[string][]SectionDef{
	clinic.NoteOutpatient: {
		LangZH: {
			{SecChiefComplaint, "主诉", false},
			{SecPresentIllness, "现病史", false},
			{SecPastHistory, "既往史", false},
			{SecAllergies, "过敏史", false},
			{SecPersonalHistory, "个人史", true},
			{SecFamilyHistory, "家族史", true},
			{SecPhysicalExam, "体格检查", false},
			{SecAuxiliary, "辅助检查", false},
			{SecDiagnosis, "初步诊断", false},
			{SecPlan, "处理意见", false},
		},
		LangEN: {
			{SecChiefComplaint, "Chief Complaint", false},
			{SecPresentIllness, "History of Present Illness", false},
			{SecReviewOfSystems, "Review of Systems", true},
			{SecPastHistory, "Past Medical History", false},
			{SecMedications, "Medications", true},
			{SecAllergies, "Allergies", false},
			{SecPersonalHistory, "Social History", true},
			{SecFamilyHistory, "Family History", true},
			{SecPhysicalExam, "Physical Examination", false},
			{SecAuxiliary, "Results", false},
			{SecDiagnosis, "Assessment", false},
			{SecPlan, "Plan", false},
		},
	},
	clinic.NoteAdmission: {
		LangZH: {
			{SecChiefComplaint, "主诉", false},
			{SecPresentIllness, "现病史", false},
			{SecPastHistory, "既往史", false},
			{SecAllergies, "过敏史", false},
			{SecPersonalHistory, "个人史", true},
			{SecFamilyHistory, "家族史", true},
			{SecPhysicalExam, "体格检查", false},
			{SecAuxiliary, "辅助检查", false},
			{SecAdmissionDx, "入院诊断", false},
		},
		LangEN: {
			{SecChiefComplaint, "Chief Complaint", false},
			{SecPresentIllness, "History of Present Illness", false},
			{SecPastHistory, "Past Medical History", false},
			{SecAllergies, "Allergies", false},
			{SecPersonalHistory, "Social History", true},
			{SecFamilyHistory, "Family History", true},
			{SecPhysicalExam, "Physical Examination", false},
			{SecAuxiliary, "Results", false},
			{SecAdmissionDx, "Admission Diagnosis", false},
		},
	},
	clinic.NoteFirstCourse: {
		LangZH: {
			{SecCaseFeatures, "病例特点", false},
			{SecDiagnosticBasis, "诊断依据与鉴别诊断", false},
			{SecCarePlan, "诊疗计划", false},
		},
		LangEN: {
			{SecCaseFeatures, "Case Summary", false},
			{SecDiagnosticBasis, "Diagnostic Reasoning and Differential", false},
			{SecCarePlan, "Plan of Care", false},
		},
	},
	clinic.NoteProgress: {
		LangZH: {
			{SecSubjective, "病情记录", false},
			{SecObjective, "查体及检查", false},
			{SecAssessment, "病情分析", false},
			{SecPlan, "处理计划", false},
		},
		LangEN: {
			{SecSubjective, "Subjective", false},
			{SecObjective, "Objective", false},
			{SecAssessment, "Assessment", false},
			{SecPlan, "Plan", false},
		},
	},
	clinic.NoteDischarge: {
		LangZH: {
			{SecAdmissionStatus, "入院情况", false},
			{SecHospitalCourse, "诊疗经过", false},
			{SecDischargeDx, "出院诊断", false},
			{SecDischargeStatus, "出院情况", false},
			{SecDischargeAdvice, "出院医嘱", false},
		},
		LangEN: {
			{SecAdmissionStatus, "Condition on Admission", false},
			{SecHospitalCourse, "Hospital Course", false},
			{SecDischargeDx, "Discharge Diagnoses", false},
			{SecDischargeStatus, "Condition at Discharge", false},
			{SecDischargeAdvice, "Discharge Instructions", false},
		},
	},
}

// Sections returns the sections of note type t in language lang (LangZH or
// LangEN), in print order, or nil for a type the scribe does not draft.
func Sections(t clinic.NoteType, lang string) []SectionDef {
	byLang, ok := sectionDefs[t]
	if !ok {
		return nil
	}
	defs := byLang[lang]
	out := make([]SectionDef, len(defs))
	copy(out, defs)
	return out
}

// NoteTypes lists the note types Draft supports.
func NoteTypes() []clinic.NoteType {
	return []clinic.NoteType{clinic.NoteOutpatient, clinic.NoteAdmission, clinic.NoteFirstCourse, clinic.NoteProgress, clinic.NoteDischarge}
}
