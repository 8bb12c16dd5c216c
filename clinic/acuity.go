package clinic

import "fmt"

// Acuity is the triage level (分级) of the national 4-level emergency
// pre-triage scale (急诊预检分诊专家共识, 2018; WS/T 390-2012 急诊科建设与管理指南).
// Lower numbers are more urgent. The zero value is AcuityUnknown.
type Acuity int

// Acuity levels.
const (
	AcuityUnknown Acuity = 0
	AcuityI       Acuity = 1 // 濒危: immediate resuscitation
	AcuityII      Acuity = 2 // 危重: within 10 minutes
	AcuityIII     Acuity = 3 // 急症: within 30 minutes
	AcuityIV      Acuity = 4 // 非急症: outpatient or within 240 minutes
)

// Valid reports whether a is one of the four levels.
func (a Acuity) Valid() bool { return a >= AcuityI && a <= AcuityIV }

// String returns the Roman numeral of the level.
func (a Acuity) String() string {
	switch a {
	case AcuityI:
		return "I"
	case AcuityII:
		return "II"
	case AcuityIII:
		return "III"
	case AcuityIV:
		return "IV"
	}
	return fmt.Sprintf("Acuity(%d)", int(a))
}

// NameZH returns the Chinese name of the level.
func (a Acuity) NameZH() string {
	switch a {
	case AcuityI:
		return "濒危"
	case AcuityII:
		return "危重"
	case AcuityIII:
		return "急症"
	case AcuityIV:
		return "非急症"
	}
	return "未知"
}

// Emergency reports whether the level belongs in the emergency department
// (levels I–III) rather than an outpatient clinic.
func (a Acuity) Emergency() bool { return a.Valid() && a <= AcuityIII }

// Raise returns the more urgent of a and proposed. A floor set by rules can
// therefore only go up: Raise never returns a level less urgent than a valid a.
// An invalid proposed level is ignored.
func (a Acuity) Raise(proposed Acuity) Acuity {
	if !proposed.Valid() {
		return a
	}
	if !a.Valid() || proposed < a {
		return proposed
	}
	return a
}
