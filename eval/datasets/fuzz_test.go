package datasets_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/eval/datasets"
)

// fuzzLimits keeps fuzz inputs small and bounded.
var fuzzLimits = datasets.Limits{MaxFileBytes: 1 << 16, MaxLineBytes: 1 << 12, MaxRecords: 50, MaxFieldBytes: 1 << 12}

// fuzzScan is the shared body of the loader fuzz targets: the scanner must
// not panic; it must either fail with an invalid or too_large boundary
// error or return at most MaxRecords records that each pass check.
func fuzzScan[T any](f *testing.F, scan datasets.ScanFunc[T], fixture string, seeds []string, check func(T) string) {
	f.Helper()
	if fixture != "" {
		b, err := os.ReadFile(filepath.Join("testdata", fixture))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		got, err := datasets.ReadAll(scan, strings.NewReader(string(in)), "fuzz", fuzzLimits)
		if err != nil {
			if c := clinic.ErrorCode(err); c != clinic.CodeInvalid && c != clinic.CodeTooLarge {
				t.Fatalf("error code %s, want invalid or too_large: %v", c, err)
			}
			if !strings.Contains(err.Error(), "fuzz") {
				t.Fatalf("error does not name the input: %v", err)
			}
			return
		}
		if len(got) > fuzzLimits.MaxRecords {
			t.Fatalf("%d records, bound %d", len(got), fuzzLimits.MaxRecords)
		}
		for i, v := range got {
			if msg := check(v); msg != "" {
				t.Fatalf("record %d: %s", i, msg)
			}
		}
	})
}

func blank(s string) bool { return strings.TrimSpace(s) == "" }

func FuzzScanACIBench(f *testing.F) {
	fuzzScan(f, datasets.ScanACIBench, "aci.csv", []string{"dataset,encounter_id,dialogue,note\n", "a,b\n\"", "encounter_id,dialogue,note\n1,\"x\n\"\"y\",z\n"},
		func(v datasets.Visit) string {
			if blank(v.EncounterID) || blank(v.Dialogue) || blank(v.Note) || v.Line < 2 {
				return "accepted a visit with an empty field or bad line"
			}
			return ""
		})
}

func FuzzScanMTSDialog(f *testing.F) {
	fuzzScan(f, datasets.ScanMTSDialog, "mts.csv", []string{"ID,section_header,section_text,dialogue\n1,CC,x,y\n", "\xef\xbb\xbfID\n"},
		func(v datasets.SectionExample) string {
			if blank(v.ID) || blank(v.SectionHeader) || blank(v.SectionText) || blank(v.Dialogue) {
				return "accepted an empty field"
			}
			return ""
		})
}

func FuzzScanIMCS21(f *testing.F) {
	fuzzScan(f, datasets.ScanIMCS21, "imcs21.json", []string{"{}", `{"1":{"dialogue":[{"speaker":"医生","sentence":"x","sentence_id":1.5}]}}`, `{"1":null}`, "{\"1\""},
		func(v datasets.IMCS21Dialogue) string {
			if blank(v.ID) || len(v.Turns) == 0 {
				return "accepted an example without ID or dialogue"
			}
			for _, s := range v.ImplicitSymptoms {
				if s != "0" && s != "1" && s != "2" {
					return "accepted symptom status " + s
				}
			}
			return ""
		})
}

func FuzzScanMIE(f *testing.F) {
	fuzzScan(f, datasets.ScanMIE, "mie.json", []string{"[]", "[[]]", `[[{"utterances":["a"],"label":["a:b-状态:阳性"]}]]`, `[[{"utterances":null}]]`},
		func(v datasets.MIEDialogue) string {
			if len(v.Windows) == 0 {
				return "accepted a dialogue without windows"
			}
			for _, w := range v.Windows {
				for _, l := range w.Labels {
					if _, err := datasets.ParseMIELabel(l.String()); err != nil {
						return "label does not round-trip: " + err.Error()
					}
				}
			}
			return ""
		})
}

func FuzzScanPromptCBLUE(f *testing.F) {
	fuzzScan(f, datasets.ScanPromptCBLUE, "promptcblue.jsonl", []string{`{"input":"x","task_dataset":"IMCS-V2-MRG","sample_id":"1","target":"主诉：a"}`, "{}\n\n", "[1]"},
		func(v datasets.PromptItem) string {
			if blank(v.SampleID) || blank(v.TaskDataset) || blank(v.Input) {
				return "accepted an item with an empty field"
			}
			if v.TaskDataset == datasets.TaskMRG {
				_, _ = v.MRG() // must not panic on any prompt
			}
			return ""
		})
}

func FuzzScanDepartmentCSV(f *testing.F) {
	fuzzScan(f, datasets.ScanDepartmentCSV, "department.csv", []string{"department,title,ask\n,,\n", "Department , TITLE,ask\nx,y,z\n"},
		func(v datasets.DepartmentQuestion) string {
			if blank(v.Department) || blank(v.Text()) {
				return "accepted a row without department or text"
			}
			return ""
		})
}

func FuzzScanKUAKEQIC(f *testing.F) {
	fuzzScan(f, datasets.ScanKUAKEQIC, "kuake.json", []string{`[{"id":"1","query":"q","label":"其他"}]`, `[{"id":1}]`, "[", "[]]"},
		func(v datasets.IntentQuery) string {
			if blank(v.ID) || blank(v.Query) {
				return "accepted an item without id or query"
			}
			return ""
		})
}

func FuzzScanCHIPCDN(f *testing.F) {
	fuzzScan(f, datasets.ScanCHIPCDN, "chipcdn.json", []string{`[{"text":"x","normalized_result":"##"}]`, `[null]`},
		func(v datasets.DiagnosisNorm) string {
			if blank(v.Text) {
				return "accepted an empty text"
			}
			for _, n := range v.Normalized {
				if blank(n) || strings.Contains(n, "##") {
					return "bad normalised name " + n
				}
			}
			return ""
		})
}

func FuzzScanYiduS4K(f *testing.F) {
	fuzzScan(f, datasets.ScanYiduS4K, "yidu.jsonl", []string{`{"originalText":"ab","entities":[{"label_type":"x","start_pos":1,"end_pos":2}]}`, "\xef\xbb\xbf\n"},
		func(v datasets.EMRPassage) string {
			n := utf8.RuneCountInString(v.Text)
			for _, e := range v.Entities {
				if e.Start < 0 || e.End <= e.Start || e.End > n {
					return "accepted a span outside the text"
				}
			}
			return ""
		})
}

func FuzzScanVignettes(f *testing.F) {
	fuzzScan(f, datasets.ScanVignettes, "vignettes.jsonl", []string{`{"correct_diagnosis":"x","presentation":"y","urgency_level":"em"}`},
		func(v datasets.Vignette) string {
			if blank(v.CorrectDiagnosis) {
				return "accepted an empty diagnosis"
			}
			return ""
		})
}

func FuzzScanNoteCases(f *testing.F) {
	fuzzScan(f, datasets.ScanNoteCases, "notes.jsonl", []string{`{"id":"a","dialogue":[{"speaker":"other","text":""}],"reference":{"x":"y"}}`, `{"id":"a","extra":1}`},
		func(v datasets.NoteCase) string {
			if blank(v.ID) || len(v.Dialogue) == 0 || len(v.Reference) == 0 {
				return "accepted a case without id, dialogue or reference"
			}
			return ""
		})
}

func FuzzScanTriageCases(f *testing.F) {
	fuzzScan(f, datasets.ScanTriageCases, "triage.jsonl", []string{`{"id":"a","text":"b","acuity":"iii","age":200}`, `{"id":"a","text":"b","department":"x","red_flag":3}`},
		func(v datasets.TriageCase) string {
			if blank(v.ID) || blank(v.Text) {
				return "accepted a case without id or text"
			}
			if v.Acuity != clinic.AcuityUnknown && !v.Acuity.Valid() {
				return "accepted an invalid acuity"
			}
			if v.AgeYears < -1 || v.AgeYears > 150 {
				return "accepted an impossible age"
			}
			return ""
		})
}

func FuzzScanQCCases(f *testing.F) {
	fuzzScan(f, datasets.ScanQCCases, "qc.jsonl", []string{`{"id":"a","type":"progress","sections":{"a":""},"defects":[""]}`},
		func(v datasets.QCCase) string {
			if blank(v.ID) || len(v.Sections) == 0 {
				return "accepted a case without id or sections"
			}
			for _, d := range v.Defects {
				if blank(string(d)) {
					return "accepted an empty defect ID"
				}
			}
			return ""
		})
}

func FuzzScanDataElements(f *testing.F) {
	fuzzScan(f, datasets.ScanDataElements, "ws445.csv", []string{"数据集名称,内部标识符,数据元标识符,数据集中文名,数据类型,表示格式,数据集定义\n,,,,,,\n"},
		func(v datasets.DataElement) string {
			if blank(v.DataSet) || blank(v.InternalID) || blank(v.Name) {
				return "accepted an element without data set, identifier or name"
			}
			return ""
		})
}

func FuzzScanACIMetadata(f *testing.F) {
	fuzzScan(f, datasets.ScanACIMetadata, "aci_metadata.csv", []string{"encounter_id,cc\nD1,x\n"},
		func(v datasets.VisitMeta) string {
			if blank(v.EncounterID) || blank(v.ChiefComplaint) || (v.Gender != "" && v.Gender != "male" && v.Gender != "female") {
				return "accepted a bad metadata row"
			}
			return ""
		})
}

func FuzzScanIMCS21Split(f *testing.F) {
	fuzzScan(f, datasets.ScanIMCS21Split, "split.csv", []string{"example_id,split\n1,test\n", "norm\nx\n"},
		func(v datasets.SplitEntry) string {
			if blank(v.ExampleID) || (v.Split != "train" && v.Split != "dev" && v.Split != "test") {
				return "accepted a bad split row"
			}
			return ""
		})
}

func FuzzScanIMCS21Symptoms(f *testing.F) {
	fuzzScan(f, datasets.ScanIMCS21Symptoms, "symptom_norm.csv", []string{"norm\n \n"},
		func(v string) string {
			if blank(v) {
				return "accepted an empty symptom"
			}
			return ""
		})
}

func FuzzSplitTurns(f *testing.F) {
	for _, s := range []string{"[doctor] hi\n[patient] ok", "Doctor: a\nb", "医生：你好", "[", "]x[", ":"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		turns := datasets.SplitTurns(s)
		// Property: no turn is lost text-wise — every non-blank line's
		// content appears in some turn, and no turn has an empty speaker.
		for _, tr := range turns {
			if tr.Speaker == "" {
				t.Fatalf("turn without speaker: %+v", tr)
			}
		}
		if strings.TrimSpace(s) != "" && len(turns) == 0 {
			t.Fatalf("non-blank transcript %q gave no turns", s)
		}
	})
}
