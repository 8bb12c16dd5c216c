package icd_test

import (
	"archive/zip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/qc/icd"
)

func mustList(t testing.TB) *icd.List {
	t.Helper()
	l, err := icd.Open(filepath.Join("..", "testdata", "icd_fixture.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestNormalise(t *testing.T) {
	l := mustList(t)
	tests := []struct {
		term  string
		ok    bool
		code  string
		exact bool
	}{
		{"直肠癌", true, "C20", true},
		{"直肠Ca", true, "C20", true},
		{"直肠腺癌术后", true, "C20", true},
		{"（左）乳腺癌IIIA期化疗后", true, "C50.9", true},
		{"左侧乳腺浸润性导管癌", false, "", false},
		{"高血压病", true, "I10", false},
		{"2型糖尿病 ", true, "E11.9", true},
		{"胆囊结石伴胆囊炎", false, "", false}, // the contained name covers only half
		{"胃不好", false, "", false},
		{"身体不适", false, "", false},
		{"", false, "", false},
		{"肺", false, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.term, func(t *testing.T) {
			m, ok := l.Normalise(tc.term)
			if ok != tc.ok || m.Code != tc.code || m.Exact != tc.exact {
				t.Errorf("Normalise(%q) = %+v, %v; want code %q exact %v ok %v", tc.term, m, ok, tc.code, tc.exact, tc.ok)
			}
		})
	}
}

func TestClean(t *testing.T) {
	tests := map[string]string{
		"子宫颈鳞癌IIB期放化疗后": "子宫颈鳞恶性肿瘤",
		"右肺腺癌T2N1M0":    "肺腺恶性肿瘤",
		"高血压病3级（极高危）":   "高血压病3级",
		"ＡＢＣ 病":         "ABC病",
	}
	for in, want := range tests {
		if got := icd.Clean(in); got != want {
			t.Errorf("Clean(%q) = %q, want %q", in, got, want)
		}
	}
}

func writeXLSX(t *testing.T, shared []string, sheet string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "list.xlsx")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	var ss strings.Builder
	ss.WriteString(`<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">`)
	for _, s := range shared {
		ss.WriteString("<si><t>" + s + "</t></si>")
	}
	ss.WriteString("</sst>")
	for name, body := range map[string]string{"xl/sharedStrings.xml": ss.String(), "xl/worksheets/sheet1.xml": sheet} {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestOpenXLSX(t *testing.T) {
	sheet := `<worksheet><sheetData>
<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>
<row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2" t="s"><v>3</v></c></row>
<row r="3"><c r="A3" t="inlineStr"><is><t>K29.5</t></is></c><c r="B3" t="s"><v>4</v></c></row>
</sheetData></worksheet>`
	l, err := icd.Open(writeXLSX(t, []string{"主要编码", "疾病名称", "C20", "直肠恶性肿瘤", "慢性胃炎"}, sheet))
	if err != nil {
		t.Fatal(err)
	}
	if l.Len() != 2 {
		t.Errorf("Len = %d, want 2 (header row skipped)", l.Len())
	}
	got := []string{}
	for _, term := range []string{"直肠癌", "慢性胃炎"} {
		m, ok := l.Normalise(term)
		if !ok {
			t.Errorf("%s not normalised", term)
		}
		got = append(got, m.Code)
	}
	if diff := cmp.Diff([]string{"C20", "K29.5"}, got); diff != "" {
		t.Errorf("codes (-want +got):\n%s", diff)
	}
	_, err = icd.Open(writeXLSX(t, []string{"A00"}, `<worksheet><sheetData><row><c r="A1" t="s"><v>7</v></c></row></sheetData></worksheet>`))
	if clinic.ErrorCode(err) != clinic.CodeInvalid {
		t.Errorf("dangling shared string: code %q, want invalid", clinic.ErrorCode(err))
	}
}

func TestReadTSVErrors(t *testing.T) {
	tests := map[string]clinic.Code{
		"C20 直肠恶性肿瘤\n":            clinic.CodeInvalid, // no tab
		"# only a comment\n":      clinic.CodeInvalid, // empty list
		strings.Repeat("x", 5000): clinic.CodeInvalid, // line too long
	}
	for in, want := range tests {
		if _, err := icd.ReadTSV(strings.NewReader(in)); clinic.ErrorCode(err) != want {
			t.Errorf("ReadTSV(%.20q): code %q, want %q", in, clinic.ErrorCode(err), want)
		}
	}
}

func FuzzNormalise(f *testing.F) {
	for _, s := range []string{"直肠癌", "（左）乳腺癌IIIA期化疗后", "T2N1M0", "ⅢB期", "", "癌", "((("} {
		f.Add(s)
	}
	l := mustList(f)
	f.Fuzz(func(t *testing.T, term string) {
		m, ok := l.Normalise(term)
		if ok && m.Code == "" {
			t.Fatalf("Normalise(%q) ok without a code", term)
		}
		// The reported cleaned wording is what Clean gives.
		c := icd.Clean(term)
		if m.Cleaned != c {
			t.Fatalf("Cleaned %q != Clean %q", m.Cleaned, c)
		}
	})
}
