package triage

import (
	"io"
	"strings"

	"github.com/yizhu-health/yizhu/clinic"
)

// Department is a catalog entry: the domain department plus what routing
// needs to know about it.
type Department struct {
	clinic.Department
	// Aliases are other names that data files and patients use for the
	// department (心内科 for 心血管科, …). Lookup is by code, names or alias.
	Aliases []string `json:"aliases,omitempty"`
	// ChildCode names the department that sees children for this
	// department's problems when the patient is younger than MinAgeYears
	// (儿科 for the internal-medicine clinics, 小儿外科 for surgery).
	ChildCode string `json:"child_code,omitempty"`
	// Emergency marks the emergency department (急诊科), the target of
	// acuity levels I–III when no escalation names another place.
	Emergency bool `json:"emergency,omitempty"`
}

// Admits reports whether the department sees a patient of the given age in
// whole years (nil = unknown) and sex. Unknown age or sex admits. Both age
// bounds are inclusive; 0 means no bound.
func (d Department) Admits(age *int, sex clinic.Sex) bool {
	if age != nil {
		if d.MinAgeYears > 0 && *age < d.MinAgeYears {
			return false
		}
		if d.MaxAgeYears > 0 && *age > d.MaxAgeYears {
			return false
		}
	}
	if d.Sex != "" && (sex == clinic.SexMale || sex == clinic.SexFemale) && sex != d.Sex {
		return false
	}
	return true
}

// Catalog is a hospital's list of departments. It is immutable after
// loading and safe for concurrent use.
type Catalog struct {
	depts  []Department
	byCode map[string]int
	byName map[string]int
}

type catalogFile struct {
	Version     int              `yaml:"version" validate:"eq=1"`
	Hospital    string           `yaml:"hospital"`
	Departments []catalogDeptRaw `yaml:"departments" validate:"min=1,max=500,dive"`
}

type catalogDeptRaw struct {
	Code        string     `yaml:"code" validate:"required,max=32"`
	NameZH      string     `yaml:"name_zh" validate:"required,max=64"`
	NameEN      string     `yaml:"name_en" validate:"required,max=128"`
	Location    string     `yaml:"location" validate:"max=256"`
	MinAgeYears int        `yaml:"min_age_years" validate:"min=0,max=150"`
	MaxAgeYears int        `yaml:"max_age_years" validate:"min=0,max=150"`
	Sex         clinic.Sex `yaml:"sex" validate:"omitempty,oneof=M F"`
	Aliases     []string   `yaml:"aliases" validate:"max=32,dive,required,max=64"`
	ChildCode   string     `yaml:"child_code" validate:"max=32"`
	Emergency   bool       `yaml:"emergency"`
}

// LoadCatalog reads a department catalog (YAML or JSON, see
// kb/departments.yaml) from r. Unknown fields, duplicate codes or names,
// inverted age bounds, unknown child codes and a catalog without exactly
// one emergency department are errors (code invalid).
func LoadCatalog(r io.Reader) (*Catalog, error) {
	const what = "department catalog"
	var f catalogFile
	if err := decodeStrict(r, what, &f); err != nil {
		return nil, err
	}
	c := &Catalog{byCode: map[string]int{}, byName: map[string]int{}}
	emergency := 0
	for i, raw := range f.Departments {
		if raw.MaxAgeYears > 0 && raw.MaxAgeYears < raw.MinAgeYears {
			return nil, invalid(what, raw.Code, "max_age_years %d < min_age_years %d", raw.MaxAgeYears, raw.MinAgeYears)
		}
		if _, dup := c.byCode[raw.Code]; dup {
			return nil, invalid(what, raw.Code, "duplicate code %q", raw.Code)
		}
		c.byCode[raw.Code] = i
		for _, n := range append([]string{raw.NameZH, raw.NameEN}, raw.Aliases...) {
			k := nameKey(n)
			if j, dup := c.byName[k]; dup && j != i {
				return nil, invalid(what, raw.Code, "name %q is used twice", n)
			}
			c.byName[k] = i
		}
		if raw.Emergency {
			emergency++
		}
		c.depts = append(c.depts, Department{
			Department: clinic.Department{
				Code: raw.Code, NameZH: raw.NameZH, NameEN: raw.NameEN, Location: raw.Location,
				MinAgeYears: raw.MinAgeYears, MaxAgeYears: raw.MaxAgeYears, Sex: raw.Sex,
			},
			Aliases: raw.Aliases, ChildCode: raw.ChildCode, Emergency: raw.Emergency,
		})
	}
	if emergency != 1 {
		return nil, invalid(what, "emergency", "want exactly one emergency department, have %d", emergency)
	}
	for _, d := range c.depts {
		if d.ChildCode == "" {
			continue
		}
		j, ok := c.byCode[d.ChildCode]
		if !ok {
			return nil, invalid(what, d.Code, "child_code %q is not a department", d.ChildCode)
		}
		if c.depts[j].MinAgeYears > 0 {
			return nil, invalid(what, d.Code, "child_code %q does not see children", d.ChildCode)
		}
	}
	return c, nil
}

// DefaultCatalog returns the built-in catalog of a general hospital.
func DefaultCatalog() *Catalog {
	c, err := LoadCatalog(mustEmbedded("kb/departments.yaml"))
	if err != nil {
		panic("triage: embedded catalog: " + err.Error())
	}
	return c
}

func nameKey(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// Len returns the number of departments.
func (c *Catalog) Len() int { return len(c.depts) }

// Departments returns a copy of the departments in catalog order.
func (c *Catalog) Departments() []Department {
	out := make([]Department, len(c.depts))
	copy(out, c.depts)
	return out
}

// Get returns the department with the given code.
func (c *Catalog) Get(code string) (Department, bool) {
	i, ok := c.byCode[code]
	if !ok {
		return Department{}, false
	}
	return c.depts[i], true
}

// Lookup finds a department by code, Chinese or English name or alias
// (case-insensitive).
func (c *Catalog) Lookup(name string) (Department, bool) {
	if i, ok := c.byCode[strings.TrimSpace(name)]; ok {
		return c.depts[i], true
	}
	if i, ok := c.byName[nameKey(name)]; ok {
		return c.depts[i], true
	}
	return Department{}, false
}

// EmergencyDepartment returns the catalog's emergency department.
func (c *Catalog) EmergencyDepartment() Department {
	for _, d := range c.depts {
		if d.Emergency {
			return d
		}
	}
	return Department{} // unreachable: LoadCatalog requires one
}

func (c *Catalog) index(code string) int {
	if i, ok := c.byCode[code]; ok {
		return i
	}
	return -1
}
