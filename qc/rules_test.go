package qc_test

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/qc"
	"github.com/yizhu-health/yizhu/qc/icd"
)

func mustICD(t testing.TB) *icd.List {
	t.Helper()
	l, err := icd.Open(filepath.Join("testdata", "icd_fixture.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func mustEngine(t testing.TB, cfg qc.Config) *qc.Engine {
	t.Helper()
	e, err := qc.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

type ruleCase struct {
	Name   string            `json:"name"`
	Fire   bool              `json:"fire"`
	Want   []clinic.Location `json:"want"`
	Record json.RawMessage   `json:"record"`
}

// TestRuleTestdata runs qc/rules/testdata/<rule>.jsonl for every default
// rule: firing records must give a finding of that rule overlapping each
// wanted location; non-firing records must give none. A rule without
// testdata, or without both kinds of case, fails.
func TestRuleTestdata(t *testing.T) {
	e := mustEngine(t, qc.Config{ICD: mustICD(t)})
	rules := e.Rules()
	if len(rules) < 50 {
		t.Fatalf("default rules = %d, want >= 50", len(rules))
	}
	for _, r := range rules {
		t.Run(string(r.ID), func(t *testing.T) {
			if r.Source == "" || r.TitleZH == "" || r.TitleEN == "" {
				t.Errorf("rule lacks source or titles")
			}
			f, err := os.Open(filepath.Join("rules", "testdata", string(r.ID)+".jsonl"))
			if err != nil {
				t.Fatalf("no testdata: %v", err)
			}
			defer f.Close()
			sc := bufio.NewScanner(f)
			sc.Buffer(nil, 1<<20)
			var fires, quiet int
			for line := 1; sc.Scan(); line++ {
				var c ruleCase
				if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
					t.Fatalf("line %d: %v", line, err)
				}
				var rec qc.Record
				if err := json.Unmarshal(c.Record, &rec); err != nil {
					t.Fatalf("line %d: record: %v", line, err)
				}
				res, err := e.Scan(t.Context(), &rec)
				if err != nil {
					t.Fatal(err)
				}
				var got []clinic.Location
				for _, fd := range res.Findings {
					if fd.RuleID == r.ID && qc.IsDefect(fd) {
						got = append(got, fd.Location)
					}
				}
				if !c.Fire {
					quiet++
					if len(got) > 0 {
						t.Errorf("line %d (%s): fired at %v, want no finding", line, c.Name, got)
					}
					continue
				}
				fires++
				if len(got) == 0 {
					t.Errorf("line %d (%s): no finding, want one at %v", line, c.Name, c.Want)
				}
				for _, w := range c.Want {
					if !slices.ContainsFunc(got, func(g clinic.Location) bool { return overlaps(w, g) }) {
						t.Errorf("line %d (%s): findings at %v, want one at %v", line, c.Name, got, w)
					}
				}
			}
			if err := sc.Err(); err != nil {
				t.Fatal(err)
			}
			if fires == 0 || quiet == 0 {
				t.Errorf("testdata has %d firing and %d non-firing cases, want both", fires, quiet)
			}
		})
	}
}

func overlaps(want, got clinic.Location) bool {
	if want.Section != got.Section {
		return false
	}
	if want.Start == 0 && want.End == 0 {
		return true
	}
	return got.Start < want.End && want.Start < got.End
}
