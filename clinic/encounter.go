package clinic

import "time"

// Sex is the administrative sex of a patient (GB/T 2261.1): "M", "F" or "U".
type Sex string

// Sex values.
const (
	SexMale    Sex = "M"
	SexFemale  Sex = "F"
	SexUnknown Sex = "U"
)

// Patient is the person being cared for. Only what the agents need is kept;
// PHI beyond it stays in the hospital information system.
type Patient struct {
	ID        string    `json:"id"`
	Name      string    `json:"name,omitempty"`
	Sex       Sex       `json:"sex"`
	BirthDate time.Time `json:"birth_date,omitzero"`
}

// AgeYears returns the patient's age in whole years at t, or -1 if the birth
// date is unknown.
func (p Patient) AgeYears(t time.Time) int {
	if p.BirthDate.IsZero() {
		return -1
	}
	y := t.Year() - p.BirthDate.Year()
	if t.YearDay() < p.BirthDate.YearDay() {
		y--
	}
	return y
}

// EncounterKind says where an encounter happens.
type EncounterKind string

// Encounter kinds.
const (
	EncounterKiosk      EncounterKind = "kiosk"      // self-service pre-consultation
	EncounterOutpatient EncounterKind = "outpatient" // 门诊
	EncounterEmergency  EncounterKind = "emergency"  // 急诊
	EncounterInpatient  EncounterKind = "inpatient"  // 住院
)

// Encounter is one contact between a patient and the hospital.
type Encounter struct {
	ID         string        `json:"id"`
	PatientID  string        `json:"patient_id"`
	Kind       EncounterKind `json:"kind"`
	Department string        `json:"department,omitempty"` // Department.Code
	StartedAt  time.Time     `json:"started_at"`
	EndedAt    time.Time     `json:"ended_at,omitzero"`
	// Events holds the clinical times that QC time limits are measured
	// from, keyed by name ("admitted_at", "discharged_at", "surgery_end", …).
	Events    map[string]time.Time `json:"events,omitempty"`
	CreatedAt time.Time            `json:"created_at"`
}

// Speaker says who said an utterance.
type Speaker string

// Speakers.
const (
	SpeakerPatient   Speaker = "patient"
	SpeakerDoctor    Speaker = "doctor"
	SpeakerCompanion Speaker = "companion" // 家属/陪同
	SpeakerOther     Speaker = "other"
)

// Utterance is one turn of a dialogue. Seq orders the turns of an
// encounter; ID is stable and is what statements cite.
type Utterance struct {
	ID          string    `json:"id"`
	EncounterID string    `json:"encounter_id"`
	Seq         int       `json:"seq"`
	Speaker     Speaker   `json:"speaker"`
	Text        string    `json:"text"`
	At          time.Time `json:"at,omitzero"`
}
