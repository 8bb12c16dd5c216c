package ecg

import (
	"fmt"
	"strings"

	"github.com/yizhu-health/yizhu/clinic"
)

// interpretFindings returns the report's findings that read the averaged
// beat's morphology or the AV-block search, none of them critical: Q
// waves of infarction (qwave.go), ST elevation discounted as secondary
// to a conduction delay, and P waves not measurable at a slow rate
// (avblock.go). m is nil when nothing was measured; n is the record's
// length in samples.
func (s *Stream) interpretFindings(m *Measurements, n int64) []Finding {
	var out []Finding
	if m != nil {
		if f, ok := s.qWaveFinding(*m, n); ok {
			out = append(out, f)
		}
		if f, ok := s.stSecondaryFinding(*m, n); ok {
			out = append(out, f)
		}
	}
	return append(out, s.avFindings()...)
}

// stSecondaryFinding returns the note for ST elevation that meets the
// plain 4th UDMI cut-offs in contiguous leads but not the STEMI rule,
// because with a QRS of 120 ms or more it is discordant and small for
// the QRS (see stemi): it may be secondary to the bundle-branch block,
// and the reading doctor should compare with an earlier ECG.
func (s *Stream) stSecondaryFinding(m Measurements, n int64) (Finding, bool) {
	r := s.rules.rule("st_elevation")
	if r == nil || m.QRSms < qrsWideMS {
		return Finding{}, false
	}
	good := s.goodMask()
	if leads, _ := stemi(m.ST, r, s.cfg.Sex, s.cfg.AgeYears, good); len(leads) > 0 {
		return Finding{}, false
	}
	leads, vals := stemiLeads(m.ST, r, s.cfg.Sex, s.cfg.AgeYears, good, true)
	if len(leads) == 0 {
		return Finding{}, false
	}
	var parts []string
	top := 0.0
	for _, l := range leads {
		j := vals["st_j_mv_"+l]
		top = max(top, j)
		parts = append(parts, fmt.Sprintf("%s J %+.2f mV", l, j))
	}
	return Finding{Code: "st_elevation_conduction_delay",
		Title: fmt.Sprintf("ST elevation with a QRS of %.0f ms (bundle-branch block): discordant to the QRS and under the modified Sgarbossa limit, possibly secondary; interpret with care (%s)",
			m.QRSms, strings.Join(parts, ", ")),
		TitleZH:  fmt.Sprintf("QRS %.0f ms(束支传导阻滞)伴 ST 段抬高:与 QRS 主波方向相反且未达改良 Sgarbossa 标准,可能为继发性改变,请结合既往心电图判读(%s)", m.QRSms, strings.Join(parts, ",")),
		Severity: clinic.SeverityMajor, Start: 0, End: n, Leads: leads, Value: top, Unit: "mV"}, true
}
