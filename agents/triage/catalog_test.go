package triage_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/yizhu-health/yizhu/agents/triage"
	"github.com/yizhu-health/yizhu/clinic"
)

func intp(n int) *int { return &n }

func TestDefaultCatalog(t *testing.T) {
	c := triage.DefaultCatalog()
	if c.Len() < 30 {
		t.Fatalf("default catalog has %d departments, want ≥ 30", c.Len())
	}
	// The sub-department labels of ../shared/data/triage/cn-internal-medicine/dev.csv.
	labels := []string{"肝病科", "消化科", "神经科", "心血管科", "内分泌科", "呼吸科", "肾内科", "血液科", "感染科", "普通内科", "风湿免疫科"}
	for _, l := range labels {
		if _, ok := c.Lookup(l); !ok {
			t.Errorf("label %s is not in the default catalog", l)
		}
	}
	for _, alias := range []string{"心内科", "神经内科", "cardiology", "CARD", "emergency"} {
		if _, ok := c.Lookup(alias); !ok {
			t.Errorf("Lookup(%q) found nothing", alias)
		}
	}
	if got := c.EmergencyDepartment().Code; got != "EM" {
		t.Errorf("emergency department = %q, want EM", got)
	}
}

func TestDepartmentAdmits(t *testing.T) {
	c := triage.DefaultCatalog()
	tests := []struct {
		code string
		age  *int
		sex  clinic.Sex
		want bool
	}{
		{"PED", intp(5), "", true},
		{"PED", intp(13), "", true},
		{"PED", intp(14), "", false},
		{"PED", nil, "", true},
		{"CARD", intp(10), "", false},
		{"CARD", intp(40), clinic.SexMale, true},
		{"GYN", intp(30), clinic.SexMale, false},
		{"GYN", intp(30), clinic.SexFemale, true},
		{"GYN", intp(30), clinic.SexUnknown, true},
		{"OB", nil, clinic.SexMale, false},
		{"ANDRO", intp(40), clinic.SexFemale, false},
		{"GER", intp(59), "", false},
		{"GER", intp(60), "", true},
	}
	for _, tc := range tests {
		d, ok := c.Get(tc.code)
		if !ok {
			t.Fatalf("no department %s", tc.code)
		}
		if got := d.Admits(tc.age, tc.sex); got != tc.want {
			t.Errorf("%s.Admits(%v, %q) = %v, want %v", tc.code, tc.age, tc.sex, got, tc.want)
		}
	}
}

func TestLoadCatalogErrors(t *testing.T) {
	const em = "  - {code: EM, name_zh: 急诊科, name_en: Emergency, emergency: true}\n"
	tests := []struct {
		name, yaml string
		field      string
	}{
		{"unknown field", "version: 1\ndepartments:\n" + em + "  - {code: A, name_zh: 甲, name_en: A, colour: red}\n", ""},
		{"duplicate code", "version: 1\ndepartments:\n" + em + "  - {code: EM, name_zh: 甲, name_en: A}\n", "EM"},
		{"no emergency", "version: 1\ndepartments:\n  - {code: A, name_zh: 甲, name_en: A}\n", "emergency"},
		{"bad child code", "version: 1\ndepartments:\n" + em + "  - {code: A, name_zh: 甲, name_en: A, child_code: NOPE}\n", "A"},
		{"inverted ages", "version: 1\ndepartments:\n" + em + "  - {code: A, name_zh: 甲, name_en: A, min_age_years: 20, max_age_years: 10}\n", "A"},
		{"bad sex", "version: 1\ndepartments:\n" + em + "  - {code: A, name_zh: 甲, name_en: A, sex: X}\n", ""},
		{"wrong version", "version: 2\ndepartments:\n" + em, ""},
		{"two documents", "version: 1\ndepartments:\n" + em + "---\nversion: 1\n", "department catalog"},
		{"duplicate name", "version: 1\ndepartments:\n" + em + "  - {code: A, name_zh: 急诊科, name_en: A}\n", "A"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := triage.LoadCatalog(strings.NewReader(tc.yaml))
			if clinic.ErrorCode(err) != clinic.CodeInvalid {
				t.Fatalf("err = %v, want code invalid", err)
			}
			if e, ok := errors.AsType[*clinic.Error](err); tc.field != "" && ok && e.Field != tc.field {
				t.Errorf("field = %q, want %q", e.Field, tc.field)
			}
		})
	}
	c, err := triage.LoadCatalog(strings.NewReader("version: 1\ndepartments:\n" + em + "  - {code: PED, name_zh: 儿科, name_en: Paediatrics, max_age_years: 13}\n  - {code: A, name_zh: 甲, name_en: A, min_age_years: 14, child_code: PED, aliases: [乙]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	d, _ := c.Lookup("乙")
	if diff := cmp.Diff("A", d.Code); diff != "" {
		t.Errorf("Lookup(乙) (-want +got):\n%s", diff)
	}
}
