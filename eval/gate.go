package eval

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/yizhu-health/yizhu/clinic"
)

//go:embed thresholds.yaml
var defaultThresholds []byte

// Bounds are one suite's gate: the minimum and maximum allowed value of
// each named metric. A metric may have both.
type Bounds struct {
	Min map[string]float64 `yaml:"min"`
	Max map[string]float64 `yaml:"max"`
}

// Thresholds maps suite names to their bounds (eval/thresholds.yaml).
type Thresholds map[string]Bounds

// DefaultThresholds returns the thresholds in eval/thresholds.yaml as
// built into the binary.
func DefaultThresholds() (Thresholds, error) { return ParseThresholds(defaultThresholds) }

// ParseThresholds decodes a thresholds file strictly: unknown keys
// (anything but min and max under a suite), duplicate keys, non-numeric
// bounds, NaN and min above max are invalid errors.
func ParseThresholds(data []byte) (Thresholds, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var t Thresholds
	if err := dec.Decode(&t); err != nil {
		if errors.Is(err, io.EOF) {
			return Thresholds{}, nil
		}
		return nil, clinic.Wrap(err, clinic.CodeInvalid, "thresholds file is malformed", "阈值文件格式错误")
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, clinic.Errorf(clinic.CodeInvalid, "thresholds file holds more than one YAML document")
	}
	for suite, b := range t {
		for m, lo := range b.Min {
			if lo != lo {
				return nil, clinic.Errorf(clinic.CodeInvalid, "thresholds: %s.min.%s is NaN", suite, m)
			}
			if hi, ok := b.Max[m]; ok && lo > hi {
				return nil, clinic.Errorf(clinic.CodeInvalid, "thresholds: %s.%s has min %v above max %v", suite, m, lo, hi)
			}
		}
		for m, hi := range b.Max {
			if hi != hi {
				return nil, clinic.Errorf(clinic.CodeInvalid, "thresholds: %s.max.%s is NaN", suite, m)
			}
		}
	}
	return t, nil
}

// Violation is one gate problem.
type Violation struct {
	Suite  string
	Metric string
	// Kind is "min" (value below the minimum), "max" (above the maximum),
	// "missing" (the report has no such metric) or "unknown-suite" (the
	// thresholds name a suite the binary does not register).
	Kind  string
	Value float64
	Bound float64
}

// String describes the violation in one line.
func (v Violation) String() string {
	switch v.Kind {
	case "min":
		return fmt.Sprintf("%s: %s = %s is below the minimum %s", v.Suite, v.Metric, formatNum(v.Value), formatNum(v.Bound))
	case "max":
		return fmt.Sprintf("%s: %s = %s is above the maximum %s", v.Suite, v.Metric, formatNum(v.Value), formatNum(v.Bound))
	case "missing":
		return fmt.Sprintf("%s: threshold names metric %q, which the report does not have (unknown metric)", v.Suite, v.Metric)
	}
	return fmt.Sprintf("thresholds name suite %q, which is not registered", v.Suite)
}

// Gate checks reports against t. registered lists the suites the binary
// knows: thresholds for an unregistered suite are violations (a typo would
// otherwise disable a gate), thresholds for a registered suite that did not
// run are skipped. The result is sorted by suite, then metric.
func (t Thresholds) Gate(reports []*Report, registered []string) []Violation {
	var out []Violation
	byName := make(map[string]*Report, len(reports))
	for _, r := range reports {
		byName[r.Suite] = r
	}
	for _, suite := range sortedKeys(t) {
		b := t[suite]
		if !slices.Contains(registered, suite) {
			out = append(out, Violation{Suite: suite, Kind: "unknown-suite"})
			continue
		}
		r, ran := byName[suite]
		if !ran {
			continue
		}
		for _, m := range sortedKeys(b.Min) {
			v, ok := r.Metrics[m]
			switch {
			case !ok:
				out = append(out, Violation{Suite: suite, Metric: m, Kind: "missing"})
			case v < b.Min[m]:
				out = append(out, Violation{Suite: suite, Metric: m, Kind: "min", Value: v, Bound: b.Min[m]})
			}
		}
		for _, m := range sortedKeys(b.Max) {
			v, ok := r.Metrics[m]
			switch {
			case !ok:
				if _, both := b.Min[m]; !both {
					out = append(out, Violation{Suite: suite, Metric: m, Kind: "missing"})
				}
			case v > b.Max[m]:
				out = append(out, Violation{Suite: suite, Metric: m, Kind: "max", Value: v, Bound: b.Max[m]})
			}
		}
	}
	slices.SortStableFunc(out, func(a, b Violation) int {
		if c := strings.Compare(a.Suite, b.Suite); c != 0 {
			return c
		}
		return strings.Compare(a.Metric, b.Metric)
	})
	return out
}
