package ecg

import (
	"strings"

	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/inference/ecg/wfdb"
)

// MaxLeads bounds the leads of a record or stream.
const MaxLeads = 16

// MaxRecordSamples bounds the samples per lead of a record given to
// Analyze (24 h at 125 Hz ≈ 10.8 M; 2^24 ≈ 4.6 h at 1000 Hz).
const MaxRecordSamples = 1 << 24

// Record is a multi-lead ECG in millivolts.
type Record struct {
	ID     string
	RateHz float64
	// Leads holds one lead per entry; all have the same length.
	Leads []Lead
	// Sex and AgeYears select the STEMI thresholds for V2–V3 (4th UDMI);
	// AgeYears < 0 or Sex "" means unknown.
	Sex      clinic.Sex
	AgeYears int
}

// Lead is one lead of a Record.
type Lead struct {
	Name    string
	Samples []float32
}

// Len returns the samples per lead.
func (r Record) Len() int {
	if len(r.Leads) == 0 {
		return 0
	}
	return len(r.Leads[0].Samples)
}

// Validate checks the record's shape: a supported rate, 1 to MaxLeads
// leads of equal, non-zero length within MaxRecordSamples.
func (r Record) Validate() error {
	if !(r.RateHz >= MinRateHz && r.RateHz <= MaxRateHz) {
		return clinic.NewError(clinic.CodeInvalid, "sampling_rate", "sampling rate must be between 125 and 1000 Hz", "采样率须在 125–1000 Hz 之间")
	}
	if len(r.Leads) == 0 || len(r.Leads) > MaxLeads {
		return clinic.NewError(clinic.CodeInvalid, "leads", "a record needs 1 to 16 leads", "心电记录须含 1–16 个导联")
	}
	n := r.Len()
	if n == 0 {
		return clinic.NewError(clinic.CodeInvalid, "leads", "the record has no samples", "心电记录没有样本")
	}
	if n > MaxRecordSamples {
		return clinic.NewError(clinic.CodeTooLarge, "leads", "the record is too long", "心电记录过长")
	}
	for _, l := range r.Leads {
		if len(l.Samples) != n {
			return clinic.NewError(clinic.CodeInvalid, "leads", "all leads must have the same length", "各导联长度须一致")
		}
	}
	return nil
}

// FromWFDB converts a decoded record, keeping only voltage signals (ECG
// leads; PLETH, RESP and other non-electrical channels are dropped). Sex
// and age are taken from header comments of the challenge form
// ("Age: 78", "Sex: Male") or the PTB form ("age: 81", "sex: female") when
// present.
func FromWFDB(w *wfdb.Record) (Record, error) {
	rec := Record{ID: w.Name, RateHz: w.FrequencyHz, AgeYears: -1}
	for i, l := range w.Leads {
		if !l.Voltage {
			continue
		}
		name := l.Name
		if name == "" {
			name = "lead" + string(rune('1'+i))
		}
		rec.Leads = append(rec.Leads, Lead{Name: name, Samples: w.Samples[i]})
	}
	for _, c := range w.Comments {
		k, v, ok := strings.Cut(c, ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "age":
			age := 0
			okAge := v != ""
			for _, ch := range v {
				if ch < '0' || ch > '9' {
					okAge = false
					break
				}
				age = age*10 + int(ch-'0')
				if age > 150 {
					okAge = false
					break
				}
			}
			if okAge {
				rec.AgeYears = age
			}
		case "sex":
			switch strings.ToLower(v) {
			case "male", "m":
				rec.Sex = clinic.SexMale
			case "female", "f":
				rec.Sex = clinic.SexFemale
			}
		}
	}
	if len(rec.Leads) == 0 {
		return Record{}, clinic.NewError(clinic.CodeInvalid, "leads", "the record has no ECG (voltage) leads", "记录中没有心电导联")
	}
	return rec, rec.Validate()
}

// canonicalLead maps a lead name to the standard 12-lead name ("I", "II",
// "III", "aVR", "aVL", "aVF", "V1"…"V6"), or "" when it is not one. The
// MIT-BIH modified limb lead MLII counts as II.
func canonicalLead(name string) string {
	s := strings.ToUpper(strings.TrimSpace(name))
	switch s {
	case "I", "II", "III", "V1", "V2", "V3", "V4", "V5", "V6":
		return s
	case "MLII", "ML2":
		return "II"
	case "AVR":
		return "aVR"
	case "AVL":
		return "aVL"
	case "AVF":
		return "aVF"
	}
	return ""
}
