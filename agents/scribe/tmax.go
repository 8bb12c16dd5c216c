package scribe

import (
	"regexp"
	"strconv"
	"strings"
)

// The highest body temperature a patient reports with a fever belongs in
// 现病史 beside the fever ("伴发热，最高体温38.5℃"): 病历书写基本规范
// asks the history of present illness for the main symptom's
// characteristics, and the peak temperature is the one a clinician asks
// first about a fever (诊断学, 问诊: 发热 — 程度、热型). It is taken only
// from the utterances that report the fever, so the statement cites what
// it states and the verifier finds the number in its sources.
var (
	// "38.5度", "38.5℃", "38.5 °C", "39摄氏度"; the trailing digit marks
	// the spoken "38度5", which is skipped.
	tempZH = regexp.MustCompile(`(\d{2}(?:\.\d{1,2})?)\s*(?:度|℃|°C|°c|摄氏度)(\d)?`)
	// "38.5 degrees", "101 °F", "102.3 degrees Fahrenheit", "39 °C".
	tempEN = regexp.MustCompile(`(?i)(\d{2,3}(?:\.\d)?)\s*(?:°\s*([cf])|degrees?(?:\s+(celsius|fahrenheit))?)`)
)

// maxTemperature returns the highest body temperature found in texts, as
// the note shows it ("38.5℃"; "101.5 degrees", the unit as the patient
// gave it), or "". Values outside what a living patient's temperature can
// be (35–43 °C, 95–109.4 °F) are room or water temperatures, doses or
// ages, and are ignored.
func maxTemperature(texts []string, zh bool) string {
	best, bestC := "", 0.0
	keep := func(shown string, celsius float64) {
		if celsius > bestC {
			best, bestC = shown, celsius
		}
	}
	for _, s := range texts {
		if zh {
			for _, m := range tempZH.FindAllStringSubmatch(s, -1) {
				if m[2] != "" {
					// "38度5" is spoken 38.5; the note would have to write
					// a number its source does not hold, so it is left out.
					continue
				}
				if c, err := strconv.ParseFloat(m[1], 64); err == nil && c >= 35 && c <= 43 {
					keep(m[1]+"℃", c)
				}
			}
			continue
		}
		for _, m := range tempEN.FindAllStringSubmatch(s, -1) {
			x, err := strconv.ParseFloat(m[1], 64)
			if err != nil {
				continue
			}
			unit := strings.ToLower(m[2] + m[3])
			shown := m[1] + " " + strings.TrimSpace(strings.TrimPrefix(m[0], m[1]))
			switch {
			case (unit == "" || strings.HasPrefix(unit, "c")) && x >= 35 && x <= 43:
				keep(shown, x)
			case (unit == "" || strings.HasPrefix(unit, "f")) && x >= 95 && x <= 109.4:
				keep(shown, (x-32)*5/9)
			}
		}
	}
	return best
}
