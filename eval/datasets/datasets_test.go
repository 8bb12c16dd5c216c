package datasets_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/eval/datasets"
)

// read collects every record of a testdata fixture.
func read[T any](t *testing.T, scan datasets.ScanFunc[T], file string) []T {
	t.Helper()
	got, err := datasets.ReadFile(scan, filepath.Join("testdata", file), datasets.Limits{})
	if err != nil {
		t.Fatalf("ReadFile(%s): %v", file, err)
	}
	return got
}

func TestACIBench(t *testing.T) {
	got := read(t, datasets.ScanACIBench, "aci.csv")
	want := []datasets.Visit{
		{Dataset: "virtassist", EncounterID: "D2N900", Line: 2,
			Dialogue: "[doctor] hi , how are you ?\n[patient] my knee hurts , doctor .\n[patient_guest] since last week .",
			Note:     "CHIEF COMPLAINT\n\nKnee pain."},
		{Dataset: "aci", EncounterID: "D2N901", Line: 7, // the first row spans lines 2–6
			Dialogue: "[doctor] any chest pain ?\n[patient] no .",
			Note:     "HISTORY OF PRESENT ILLNESS\n\nNo chest pain, \"occasional\" palpitations."},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	turns := got[0].Turns()
	wantTurns := []datasets.Turn{
		{Speaker: clinic.SpeakerDoctor, Label: "doctor", Text: "hi , how are you ?"},
		{Speaker: clinic.SpeakerPatient, Label: "patient", Text: "my knee hurts , doctor ."},
		{Speaker: clinic.SpeakerCompanion, Label: "patient_guest", Text: "since last week ."},
	}
	if diff := cmp.Diff(wantTurns, turns); diff != "" {
		t.Errorf("Turns (-want +got):\n%s", diff)
	}
}

func TestACIMetadataAndIMCSMeta(t *testing.T) {
	got := read(t, datasets.ScanACIMetadata, "aci_metadata.csv")
	want := []datasets.VisitMeta{
		{Dataset: "virtassist", EncounterID: "D2N900", Gender: "female", Age: "50", ChiefComplaint: "annual exam",
			SecondaryComplaints: []string{"congestive heart failure", "depression"}, Line: 2},
		{Dataset: "aci", EncounterID: "D2N901", Age: "22-month", ChiefComplaint: "cough", Line: 3},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("metadata (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"咳嗽", "发热"}, read(t, datasets.ScanIMCS21Symptoms, "symptom_norm.csv")); diff != "" {
		t.Errorf("symptoms (-want +got):\n%s", diff)
	}
	wantSplit := []datasets.SplitEntry{{ExampleID: "10000001", Split: "train"}, {ExampleID: "10000002", Split: "dev"}}
	if diff := cmp.Diff(wantSplit, read(t, datasets.ScanIMCS21Split, "split.csv")); diff != "" {
		t.Errorf("split (-want +got):\n%s", diff)
	}
}

func TestMTSDialog(t *testing.T) {
	got := read(t, datasets.ScanMTSDialog, "mts.csv")
	if len(got) != 2 {
		t.Fatalf("got %d items, want 2", len(got))
	}
	want := datasets.SectionExample{ID: "1", SectionHeader: "FAM/SOCHX", SectionText: "Nonsmoker.", Line: 4,
		Dialogue: "Doctor: Do you smoke?\nGuest_family_1: He never has.\nPatient: No."}
	if diff := cmp.Diff(want, got[1]); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	speakers := []clinic.Speaker{}
	for _, tr := range got[1].Turns() {
		speakers = append(speakers, tr.Speaker)
	}
	if diff := cmp.Diff([]clinic.Speaker{clinic.SpeakerDoctor, clinic.SpeakerCompanion, clinic.SpeakerPatient}, speakers); diff != "" {
		t.Errorf("speakers (-want +got):\n%s", diff)
	}
}

func TestIMCS21(t *testing.T) {
	got := read(t, datasets.ScanIMCS21, "imcs21.json")
	want := []datasets.IMCS21Dialogue{
		{
			ID: "10000001", Diagnosis: "小儿发热", SelfReport: "宝宝发烧两天，最高38.5度",
			Turns: []datasets.IMCS21Turn{
				{SentenceID: "1", Turn: datasets.Turn{Speaker: clinic.SpeakerDoctor, Label: "医生", Text: "你好，宝宝多大了？"}, DialogueAct: "Request-Basic_Information"},
				{SentenceID: "2", Turn: datasets.Turn{Speaker: clinic.SpeakerPatient, Label: "患者", Text: "一岁半，发烧两天"}, DialogueAct: "Inform-Symptom",
					SymptomNorm: []string{"发热"}, SymptomType: []string{"1"}},
			},
			Reports: []map[string]string{
				{"主诉": "发热两天。", "现病史": "患儿发热两天，最高38.5度。", "辅助检查": "暂缺。", "既往史": "不详。", "诊断": "小儿发热。", "建议": "物理降温，观察。"},
				{"主诉": "发烧2天。", "现病史": "发热2天。", "辅助检查": "无。", "既往史": "无。", "诊断": "发热。", "建议": "多喝水。"},
			},
			ExplicitSymptoms: []string{"发热"},
			ImplicitSymptoms: map[string]string{"发热": "1", "咳嗽": "0"},
		},
		{
			ID: "10000002", SelfReport: "宝宝咳嗽",
			Turns: []datasets.IMCS21Turn{{SentenceID: "1", Turn: datasets.Turn{Speaker: clinic.SpeakerPatient, Label: "患者", Text: "宝宝咳嗽有痰"}}},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestMIE(t *testing.T) {
	got := read(t, datasets.ScanMIE, "mie.json")
	if len(got) != 2 {
		t.Fatalf("got %d dialogues, want 2", len(got))
	}
	want := datasets.MIEDialogue{Index: 0, Windows: []datasets.MIEWindow{
		{Utterances: []string{"", "", "", "", "患者:最近胸闷"}, Labels: []datasets.MIELabel{{Category: "症状", Item: "胸闷", Status: "阳性"}}},
		{Utterances: []string{"", "", "", "患者:最近胸闷", "医生:做过心电图吗？"}, Labels: []datasets.MIELabel{
			{Category: "症状", Item: "胸闷", Status: "阳性"}, {Category: "检查", Item: "心电图", Status: "未知"}}},
	}}
	if diff := cmp.Diff(want, got[0]); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	wantTurns := []datasets.Turn{
		{Speaker: clinic.SpeakerPatient, Label: "患者", Text: "最近胸闷"},
		{Speaker: clinic.SpeakerDoctor, Label: "医生", Text: "做过心电图吗？"},
	}
	if diff := cmp.Diff(wantTurns, got[0].Turns()); diff != "" {
		t.Errorf("Turns (-want +got):\n%s", diff)
	}
	if s := got[1].Windows[0].Labels[0].String(); s != "症状:头晕-状态:阴性" {
		t.Errorf("label String = %q", s)
	}
}

func TestPromptCBLUEAndMRG(t *testing.T) {
	got := read(t, datasets.ScanPromptCBLUE, "promptcblue.jsonl")
	if len(got) != 2 || got[0].TaskDataset != datasets.TaskMRG || got[1].Line != 2 {
		t.Fatalf("items = %+v", got)
	}
	if diff := cmp.Diff([]string{"治疗方案", "就医建议"}, got[1].AnswerChoices); diff != "" {
		t.Errorf("answer choices (-want +got):\n%s", diff)
	}
	ex, err := got[0].MRG()
	if err != nil {
		t.Fatal(err)
	}
	want := datasets.MRGExample{
		SampleID: "dev-1",
		Turns: []datasets.Turn{
			{Speaker: clinic.SpeakerPatient, Label: "患者", Text: "宝宝咳嗽三天"},
			{Speaker: clinic.SpeakerDoctor, Label: "医生", Text: "有发烧吗？"},
			{Speaker: clinic.SpeakerPatient, Label: "患者", Text: "没有\n晚上咳得多"},
		},
		Report: map[string]string{"主诉": "咳嗽三天。", "现病史": "患儿咳嗽三天，夜间为甚，无发热。", "辅助检查": "暂缺。",
			"既往史": "不详。", "诊断": "小儿咳嗽。", "建议": "观察。"},
	}
	if diff := cmp.Diff(want, ex); diff != "" {
		t.Errorf("MRG (-want +got):\n%s", diff)
	}
	if _, err := got[1].MRG(); err == nil {
		t.Error("MRG of a KUAKE-QIC item: want error")
	}
}

func TestDepartmentKUAKECHIPYidu(t *testing.T) {
	dep := read(t, datasets.ScanDepartmentCSV, "department.csv")
	wantDep := []datasets.DepartmentQuestion{
		{Department: "心血管科", Title: "胸闷气短怎么办?", Ask: "最近爬楼梯就胸闷，休息一会儿好了", Answer: "建议做心电图。", Line: 2},
		{Department: "消化科", Title: "胃疼", Ask: "饭后胃疼,反酸", Answer: "可能是胃炎。", Line: 3},
	}
	if diff := cmp.Diff(wantDep, dep); diff != "" {
		t.Errorf("department (-want +got):\n%s", diff)
	}
	if got := dep[1].Text(); got != "胃疼\n饭后胃疼,反酸" {
		t.Errorf("Text = %q", got)
	}
	q := read(t, datasets.ScanKUAKEQIC, "kuake.json")
	wantQ := []datasets.IntentQuery{{ID: "s1", Query: "心肌缺血如何治疗", Label: "治疗方案"}, {ID: "s2", Query: "头痛挂什么科"}}
	if diff := cmp.Diff(wantQ, q); diff != "" {
		t.Errorf("kuake (-want +got):\n%s", diff)
	}
	cdn := read(t, datasets.ScanCHIPCDN, "chipcdn.json")
	wantCDN := []datasets.DiagnosisNorm{{Text: "右乳腺癌IV期", Normalized: []string{"乳腺恶性肿瘤", "癌"}}, {Text: "高血压病"}}
	if diff := cmp.Diff(wantCDN, cdn); diff != "" {
		t.Errorf("chip-cdn (-want +got):\n%s", diff)
	}
	// 患0 者1 因2 胃3 癌4 行5 胃6 切7 除8 术9 。10: 胃癌 = [3,5), 胃切除术 = [6,10).
	yidu := read(t, datasets.ScanYiduS4K, "yidu.jsonl")
	wantY := []datasets.EMRPassage{{Text: "患者因胃癌行胃切除术。", Line: 1, Entities: []datasets.EntitySpan{
		{Label: "疾病和诊断", Start: 3, End: 5}, {Label: "手术", Start: 6, End: 10}}}}
	if diff := cmp.Diff(wantY, yidu); diff != "" {
		t.Errorf("yidu (-want +got):\n%s", diff)
	}
	v := read(t, datasets.ScanVignettes, "vignettes.jsonl")
	if len(v) != 2 || v[1].UrgencyLevel != "sc" || v[0].Presentation == "" || v[1].Line != 2 {
		t.Errorf("vignettes = %+v", v)
	}
}

func TestDataElements(t *testing.T) {
	got := read(t, datasets.ScanDataElements, "ws445.csv")
	want := []datasets.DataElement{
		{DataSet: "入院记录", InternalID: "HDSD00.13.116", ElementID: "DE01.00.014.00", Name: "住院号", DataType: "S1", Format: "AN..18",
			Definition: "按照某一特定编码规则赋予住院就诊对象的顺序号", Line: 2},
		{DataSet: "入院记录", InternalID: "HDSD00.13.114", ElementID: "DE04.01.119.00", Name: "主诉", DataType: "S1", Format: "AN..100",
			Definition: "对患者本次疾病相关的主要症状及其持续时间的描述，一般由患者本人或监护人描述", Line: 3},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestMIELabels(t *testing.T) {
	d := datasets.MIEDialogue{Windows: []datasets.MIEWindow{
		{Labels: []datasets.MIELabel{{Category: "症状", Item: "胸闷", Status: "阳性"}}},
		{Labels: []datasets.MIELabel{{Category: "症状", Item: "胸闷", Status: "阳性"}, {Category: "检查", Item: "心电图", Status: "未知"},
			{Category: "症状", Item: "胸闷", Status: "医生阴性"}}},
	}}
	// Distinct labels, sorted by category (检 < 症 in code-point order), item, status (医 < 阳).
	want := []datasets.MIELabel{
		{Category: "检查", Item: "心电图", Status: "未知"},
		{Category: "症状", Item: "胸闷", Status: "医生阴性"},
		{Category: "症状", Item: "胸闷", Status: "阳性"},
	}
	if diff := cmp.Diff(want, d.Labels()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestYizhuFormats(t *testing.T) {
	notes := read(t, datasets.ScanNoteCases, "notes.jsonl")
	wantNotes := []datasets.NoteCase{
		{ID: "n1", Line: 1, Reference: map[string]string{"chief_complaint": "胸痛2天。"}, Dialogue: []datasets.Turn{
			{Speaker: clinic.SpeakerPatient, Label: "patient", Text: "胸口疼两天"},
			{Speaker: clinic.SpeakerDoctor, Label: "doctor", Text: "出汗吗？"}}},
		{ID: "n2", Line: 3, Reference: map[string]string{"chief_complaint": "晕厥1次。", "present_illness": ""}, Dialogue: []datasets.Turn{
			{Speaker: clinic.SpeakerCompanion, Label: "companion", Text: "他昨晚晕倒了"}}},
	}
	if diff := cmp.Diff(wantNotes, notes); diff != "" {
		t.Errorf("notes (-want +got):\n%s", diff)
	}
	tri := read(t, datasets.ScanTriageCases, "triage.jsonl")
	wantTri := []datasets.TriageCase{
		{ID: "t1", Text: "胸痛伴大汗1小时", AgeYears: 58, Sex: clinic.SexMale, Vitals: map[string]float64{"hr": 110, "sbp": 92},
			Department: "急诊科", Acuity: clinic.AcuityII, RedFlag: true, Line: 1},
		{ID: "t2", Text: "咳嗽三天", AgeYears: -1, Department: "呼吸科", Acuity: clinic.AcuityIV, Line: 2},
		{ID: "t3", Text: "突发言语不清", AgeYears: -1, Acuity: clinic.AcuityI, RedFlag: true, RedFlagRule: "RF-STROKE", Line: 3},
	}
	if diff := cmp.Diff(wantTri, tri); diff != "" {
		t.Errorf("triage (-want +got):\n%s", diff)
	}
	qc := read(t, datasets.ScanQCCases, "qc.jsonl")
	wantQC := []datasets.QCCase{
		{ID: "q1", Type: clinic.NoteAdmission, Line: 1,
			Sections: map[string]string{"chief_complaint": "胸痛2天", "present_illness": "患者2天前出现胸痛。"},
			Events:   map[string]time.Time{"admitted_at": time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)},
			Defects:  []clinic.RuleID{"ADM-001"}},
		{ID: "q2", Type: clinic.NoteOutpatient, Line: 2, Sections: map[string]string{"chief_complaint": "咳嗽3天"}, Defects: []clinic.RuleID{}},
	}
	if diff := cmp.Diff(wantQC, qc, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
		t.Errorf("qc (-want +got):\n%s", diff)
	}
}

// wantParseError checks that err is a boundary error with code and a
// ParseError rendering as want (file:line: … prefix).
func wantParseError(t *testing.T, err error, code clinic.Code, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want error containing %q, got nil", want)
	}
	if got := clinic.ErrorCode(err); got != code {
		t.Errorf("code = %s, want %s (err: %v)", got, code, err)
	}
	pe, ok := errors.AsType[*datasets.ParseError](err)
	if !ok {
		t.Fatalf("error %v carries no *ParseError", err)
	}
	if !strings.Contains(pe.Error(), want) {
		t.Errorf("error %q does not contain %q", pe.Error(), want)
	}
}

func TestMalformedInput(t *testing.T) {
	tests := []struct {
		name  string
		file  string
		input string
		scan  func(path string) error
		code  clinic.Code
		want  string
	}{
		{"aci missing column", "a.csv", "dataset,encounter_id,dialogue\nx,y,z\n",
			count(datasets.ScanACIBench), clinic.CodeInvalid, `a.csv:1: malformed dataset: missing column "note"`},
		{"aci empty note", "a.csv", "dataset,encounter_id,dialogue,note\nx,D1,\"[doctor] hi\",\n",
			count(datasets.ScanACIBench), clinic.CodeInvalid, "a.csv:2: malformed dataset: empty note"},
		{"csv bare quote", "m.csv", "ID,section_header,section_text,dialogue\n1,CC,a \"b\" c,d\n",
			count(datasets.ScanMTSDialog), clinic.CodeInvalid, "m.csv:2:"},
		{"csv short row", "d.csv", "department,title,ask\n心血管科,胸闷\n",
			count(datasets.ScanDepartmentCSV), clinic.CodeInvalid, "d.csv:2: malformed dataset: 2 fields, want 3"},
		{"csv empty file", "d.csv", "", count(datasets.ScanDepartmentCSV), clinic.CodeInvalid, "d.csv:1: malformed dataset: empty file"},
		{"json syntax on line 3", "k.json", "[\n {\"id\":\"s1\",\"query\":\"q\"},\n {\"id\": oops}\n]",
			count(datasets.ScanKUAKEQIC), clinic.CodeInvalid, "k.json:3: malformed dataset"},
		{"json wrong type", "k.json", "[\n {\"id\":\"s1\",\n  \"query\": 7}\n]",
			count(datasets.ScanKUAKEQIC), clinic.CodeInvalid, `k.json:3: malformed dataset: field "query": JSON number where string was expected`},
		{"json wrong type in second element", "k.json", "[\n {\"id\":\"s1\",\"query\":\"q\"},\n {\"id\":\"s2\",\n  \"query\": 42}\n]",
			count(datasets.ScanKUAKEQIC), clinic.CodeInvalid, `k.json:4: malformed dataset: field "query"`},
		{"kuake unknown label", "k.json", "[{\"id\":\"s1\",\"query\":\"q\",\"label\":\"挂号\"}]",
			count(datasets.ScanKUAKEQIC), clinic.CodeInvalid, `unknown label "挂号"`},
		{"json not an array", "c.json", "{\"text\":\"x\"}", count(datasets.ScanCHIPCDN), clinic.CodeInvalid, "c.json:1: malformed dataset: want \"[\""},
		{"json trailing data", "c.json", "[]\n[]", count(datasets.ScanCHIPCDN), clinic.CodeInvalid, "c.json:2: malformed dataset: data after"},
		{"json truncated", "c.json", "[{\"text\":\"x\"", count(datasets.ScanCHIPCDN), clinic.CodeInvalid, "c.json:1: malformed dataset: unexpected end"},
		{"mie bad status", "m.json", "[[{\"utterances\":[\"患者:胸痛\"],\n\"label\":[\"症状:胸痛-状态:可能\"]}]]",
			count(datasets.ScanMIE), clinic.CodeInvalid, `unknown status "可能"`},
		{"imcs no dialogue", "i.json", "{\n\"1\": {\"dialogue\": []}\n}", count(datasets.ScanIMCS21), clinic.CodeInvalid, `i.json:2: malformed dataset: example "1": no dialogue`},
		{"imcs bad symptom status", "i.json", "{\"1\": {\"dialogue\": [{\"speaker\":\"医生\",\"sentence\":\"x\"}], \"implicit_info\": {\"Symptom\": {\"咳嗽\": \"3\"}}}}",
			count(datasets.ScanIMCS21), clinic.CodeInvalid, `status "3"`},
		{"jsonl bad line 2", "p.jsonl", "{\"input\":\"a\",\"task_dataset\":\"X\",\"sample_id\":\"1\"}\n{oops\n",
			count(datasets.ScanPromptCBLUE), clinic.CodeInvalid, "p.jsonl:2: malformed dataset"},
		{"notes unknown field", "n.jsonl", "{\"id\":\"n1\",\"dialog\":[]}\n", count(datasets.ScanNoteCases), clinic.CodeInvalid, `n.jsonl:1: malformed dataset: json: unknown field "dialog"`},
		{"notes bad speaker", "n.jsonl", "{\"id\":\"n1\",\"dialogue\":[{\"speaker\":\"nurse\",\"text\":\"x\"}],\"reference\":{\"a\":\"b\"}}\n",
			count(datasets.ScanNoteCases), clinic.CodeInvalid, `speaker "nurse"`},
		{"triage acuity 5", "t.jsonl", "{\"id\":\"t1\",\"text\":\"x\",\"acuity\":5}\n", count(datasets.ScanTriageCases), clinic.CodeInvalid, "acuity 5, want 1–4"},
		{"triage nothing to score", "t.jsonl", "\n\n{\"id\":\"t1\",\"text\":\"x\"}\n", count(datasets.ScanTriageCases), clinic.CodeInvalid, "t.jsonl:3: malformed dataset: case t1: neither department nor acuity"},
		{"qc bad time", "q.jsonl", "{\"id\":\"q1\",\"type\":\"admission\",\"sections\":{\"a\":\"b\"},\"events\":{\"admitted_at\":\"yesterday\"}}\n",
			count(datasets.ScanQCCases), clinic.CodeInvalid, "is not RFC 3339"},
		{"qc unknown type", "q.jsonl", "{\"id\":\"q1\",\"type\":\"memo\",\"sections\":{\"a\":\"b\"}}\n", count(datasets.ScanQCCases), clinic.CodeInvalid, `note type "memo"`},
		{"yidu span outside", "y.jsonl", "{\"originalText\":\"胃癌\",\"entities\":[{\"label_type\":\"疾病和诊断\",\"start_pos\":0,\"end_pos\":3}]}\n",
			count(datasets.ScanYiduS4K), clinic.CodeInvalid, "y.jsonl:1: malformed dataset: entity 0: span [0,3)"},
		{"aci metadata gender", "m.csv", "encounter_id,cc,patient_gender\nD1,cough,other\n", count(datasets.ScanACIMetadata), clinic.CodeInvalid, `m.csv:2: malformed dataset: patient_gender "other"`},
		{"imcs split", "s.csv", "example_id,split\n1,val\n", count(datasets.ScanIMCS21Split), clinic.CodeInvalid, `s.csv:2: malformed dataset: split "val"`},
		{"vignette bad urgency", "v.jsonl", "{\"correct_diagnosis\":\"x\",\"case_description\":\"y\",\"urgency_level\":\"now\"}\n",
			count(datasets.ScanVignettes), clinic.CodeInvalid, `urgency_level "now"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), tc.file)
			if err := os.WriteFile(p, []byte(tc.input), 0o644); err != nil {
				t.Fatal(err)
			}
			err := tc.scan(p)
			wantParseError(t, err, tc.code, tc.want)
			if !errors.Is(err, datasets.ErrFormat) {
				t.Errorf("errors.Is(err, ErrFormat) = false for %v", err)
			}
		})
	}
}

// count returns a function that scans the file at path with scan.
func count[T any](scan datasets.ScanFunc[T]) func(string) error {
	return func(p string) error {
		return datasets.ScanFile(scan, p, datasets.Limits{}, func(T) error { return nil })
	}
}

func TestLimits(t *testing.T) {
	jsonl := "{\"id\":\"t1\",\"text\":\"x\",\"acuity\":1}\n{\"id\":\"t2\",\"text\":\"y\",\"acuity\":2}\n"
	tests := []struct {
		name string
		run  func() error
		want string
	}{
		{"records jsonl", func() error {
			_, err := datasets.ReadAll(datasets.ScanTriageCases, strings.NewReader(jsonl), "t.jsonl", datasets.Limits{MaxRecords: 1})
			return err
		}, "t.jsonl:2: size bound exceeded: record count exceeds 1"},
		{"line length", func() error {
			_, err := datasets.ReadAll(datasets.ScanTriageCases, strings.NewReader(jsonl), "t.jsonl", datasets.Limits{MaxLineBytes: 10})
			return err
		}, "t.jsonl:1: size bound exceeded: line length exceeds 10"},
		{"file size", func() error {
			_, err := datasets.ReadAll(datasets.ScanCHIPCDN, strings.NewReader(`[{"text":"aaaaaaaaaaaaaaaaaaaa"}]`), "c.json", datasets.Limits{MaxFileBytes: 8})
			return err
		}, "size bound exceeded"},
		{"records json array", func() error {
			_, err := datasets.ReadAll(datasets.ScanCHIPCDN, strings.NewReader(`[{"text":"a"},{"text":"b"}]`), "c.json", datasets.Limits{MaxRecords: 1})
			return err
		}, "record count exceeds 1"},
		{"csv field", func() error {
			_, err := datasets.ReadAll(datasets.ScanDepartmentCSV, strings.NewReader("department,title,ask\n心血管科,胸闷胸闷胸闷,x\n"), "d.csv", datasets.Limits{MaxFieldBytes: 13}) // 心血管科 is 12 bytes, 胸闷胸闷胸闷 18
			return err
		}, `d.csv:2: size bound exceeded: column "title" exceeds 13`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantParseError(t, tc.run(), clinic.CodeTooLarge, tc.want)
		})
	}
	// Exactly at the file bound is fine: 2 bytes "[]" with MaxFileBytes 2.
	if _, err := datasets.ReadAll(datasets.ScanCHIPCDN, strings.NewReader("[]"), "c.json", datasets.Limits{MaxFileBytes: 2}); err != nil {
		t.Errorf("input of exactly MaxFileBytes: %v", err)
	}
}

func TestScanStopsOnCallbackError(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	err := datasets.ScanFile(datasets.ScanKUAKEQIC, filepath.Join("testdata", "kuake.json"), datasets.Limits{}, func(datasets.IntentQuery) error {
		n++
		return stop
	})
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("err = %v after %d records, want stop after 1", err, n)
	}
	if err := datasets.ScanFile(datasets.ScanKUAKEQIC, filepath.Join(t.TempDir(), "absent.json"), datasets.Limits{}, func(datasets.IntentQuery) error { return nil }); clinic.ErrorCode(err) != clinic.CodeNotFound {
		t.Errorf("absent file: err = %v, want not_found", err)
	}
}

func TestSplitTurns(t *testing.T) {
	got := datasets.SplitTurns("intro line\nDoctor: hello\nGuest_clinician: hi\n\n医生：你好\n患者: 胸痛\n持续两天\nNote: ignored tag")
	want := []datasets.Turn{
		{Speaker: clinic.SpeakerOther, Text: "intro line"},
		{Speaker: clinic.SpeakerDoctor, Label: "Doctor", Text: "hello"},
		{Speaker: clinic.SpeakerDoctor, Label: "Guest_clinician", Text: "hi"},
		{Speaker: clinic.SpeakerDoctor, Label: "医生", Text: "你好"},
		{Speaker: clinic.SpeakerPatient, Label: "患者", Text: "胸痛\n持续两天\nNote: ignored tag"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestCatalogFind(t *testing.T) {
	root := t.TempDir()
	for _, p := range []string{
		"notes/aci-bench/data/train.csv", "notes/aci-bench/data/train_metadata.csv",
		"notes/mie-cardiology/dev.json", "notes/mie-cardiology/ontology.json",
		"triage/kuake-qic/KUAKE-QIC_dev.json", "triage/kuake-qic/example_gold.json",
	} {
		full := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	found := map[string][]string{}
	for _, k := range datasets.Catalog() {
		files, err := datasets.Find(root, k)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			r, _ := filepath.Rel(root, f)
			found[k.Name] = append(found[k.Name], filepath.ToSlash(r))
		}
	}
	want := map[string][]string{
		"aci-bench":          {"notes/aci-bench/data/train.csv"},
		"aci-bench-metadata": {"notes/aci-bench/data/train_metadata.csv"},
		"mie-cardiology":     {"notes/mie-cardiology/dev.json"},
		"kuake-qic":          {"triage/kuake-qic/KUAKE-QIC_dev.json"},
	}
	if diff := cmp.Diff(want, found); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
