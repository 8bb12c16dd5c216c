package qc

import "github.com/yizhu-health/yizhu/clinic"

// SectionDef is a known section: its stable key and the printed Chinese
// title. Records may use either as the key in "sections".
type SectionDef struct {
	Key     string
	TitleZH string
}

// knownSections lists the section keys rules may name. Keys are append-only.
// Titles follow 病历书写基本规范 (卫医政发〔2010〕11号) and the WS 445-2014
// data-set element names.
var knownSections = []SectionDef{
	{"chief_complaint", "主诉"},
	{"present_illness", "现病史"},
	{"past_history", "既往史"},
	{"personal_history", "个人史"},
	{"marital_history", "婚育史"},
	{"menstrual_history", "月经史"},
	{"family_history", "家族史"},
	{"allergy_history", "过敏史"},
	{"physical_exam", "体格检查"},
	{"specialist_exam", "专科检查"},
	{"auxiliary_exam", "辅助检查"},
	{"preliminary_diagnosis", "初步诊断"},
	{"case_features", "病例特点"},
	{"diagnosis_basis", "诊断依据"},
	{"differential_diagnosis", "鉴别诊断"},
	{"treatment_plan", "诊疗计划"},
	{"admission_condition", "入院情况"},
	{"admission_diagnosis", "入院诊断"},
	{"course", "诊疗经过"},
	{"discharge_diagnosis", "出院诊断"},
	{"discharge_condition", "出院情况"},
	{"discharge_advice", "出院医嘱"},
	{"preop_diagnosis", "术前诊断"},
	{"postop_diagnosis", "术后诊断"},
	{"operation_name", "手术名称"},
	{"anesthesia", "麻醉方式"},
	{"operation_procedure", "手术经过"},
	{"operators", "手术者及助手"},
	{"condition_change", "病情变化"},
	{"rescue_measures", "抢救措施"},
	{"rescue_participants", "参加抢救人员"},
	{"diagnosis", "诊断"},
	{"management", "处理意见"},
	{"senior_round", "上级医师查房"},
}

// ProgressSection is the pseudo-section key of the progress-note list; a
// finding on note i has Location.Section "progress_notes/i".
const ProgressSection = "progress_notes"

// DrugsSection is the pseudo-section key of the prescription list; a
// finding on drug i has Location.Section "drugs/i".
const DrugsSection = "drugs"

// KnownSections returns a copy of the section keys rules may name, with
// their Chinese titles.
func KnownSections() []SectionDef { return append([]SectionDef(nil), knownSections...) }

type sectionIndex struct {
	byKey   map[string]string // key -> key
	byTitle map[string]string // zh title -> key
}

func newSectionIndex() sectionIndex {
	ix := sectionIndex{byKey: map[string]string{}, byTitle: map[string]string{}}
	for _, s := range knownSections {
		ix.byKey[s.Key] = s.Key
		ix.byTitle[s.TitleZH] = s.Key
	}
	ix.byKey[ProgressSection] = ProgressSection
	ix.byKey[DrugsSection] = DrugsSection
	return ix
}

// key resolves a key or Chinese title to the stable key.
func (ix sectionIndex) key(s string) (string, bool) {
	if k, ok := ix.byKey[s]; ok {
		return k, true
	}
	k, ok := ix.byTitle[s]
	return k, ok
}

// noteTypes maps the accepted record type names (English key or Chinese
// name) to clinic.NoteType.
var noteTypes = map[string]clinic.NoteType{
	"outpatient":   clinic.NoteOutpatient,
	"门诊病历":         clinic.NoteOutpatient,
	"门(急)诊病历":      clinic.NoteOutpatient,
	"门急诊病历":        clinic.NoteOutpatient,
	"admission":    clinic.NoteAdmission,
	"入院记录":         clinic.NoteAdmission,
	"first_course": clinic.NoteFirstCourse,
	"首次病程记录":       clinic.NoteFirstCourse,
	"progress":     clinic.NoteProgress,
	"日常病程记录":       clinic.NoteProgress,
	"病程记录":         clinic.NoteProgress,
	"discharge":    clinic.NoteDischarge,
	"出院记录":         clinic.NoteDischarge,
	"operation":    clinic.NoteOperation,
	"手术记录":         clinic.NoteOperation,
	"rescue":       clinic.NoteRescue,
	"抢救记录":         clinic.NoteRescue,
}

// ParseNoteType maps a record type name (English key or Chinese name) to a
// clinic.NoteType.
func ParseNoteType(s string) (clinic.NoteType, bool) {
	t, ok := noteTypes[s]
	return t, ok
}
