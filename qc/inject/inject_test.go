package inject_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/qc"
	"github.com/yizhu-health/yizhu/qc/icd"
	"github.com/yizhu-health/yizhu/qc/inject"
)

var update = flag.Bool("update", false, "rewrite qc/rules/testdata/<rule>.jsonl from the generator")

// Passages written for these tests (not from any dataset).
var passages = []inject.Passage{
	{
		ID:         "p-female",
		Text:       "患者5月前无意中发现左侧乳房肿块，约2CM大小，无疼痛，于我院行穿刺活检，病理示：浸润性导管癌。完善检查后行左乳腺癌改良根治术，术程顺利，术后恢复良好。术后病理示：浸润性导管癌II级，腋窝淋巴结3/15见癌转移。术后予多西他赛联合环磷酰胺方案化疗4周期，过程顺利，无明显不良反应。现为行下一周期治疗再次入院，近期精神可，饮食睡眠可，大小便正常，体重无明显变化。",
		Diseases:   []string{"乳腺癌", "浸润性导管癌"},
		Drugs:      []string{"多西他赛", "环磷酰胺"},
		Operations: []string{"左乳腺癌改良根治术"},
	},
	{
		ID:         "p-male",
		Text:       "患者2年前体检发现前列腺特异性抗原轻度升高，未予重视。3月前出现大便次数增多，伴黏液血便，于我院行肠镜检查，见距肛门8CM处菜花样肿物，活检病理示：直肠腺癌。遂在全麻下行直肠癌根治术，术后病理示中分化腺癌，侵及浆膜层，淋巴结未见转移。术后予奥沙利铂联合卡培他滨方案辅助化疗，耐受可。今为复查及继续治疗入院，无恶心，无腹胀，睡眠可，小便正常。",
		Diseases:   []string{"直肠癌", "直肠腺癌"},
		Drugs:      []string{"奥沙利铂", "卡培他滨"},
		Operations: []string{"直肠癌根治术"},
	},
}

func mustICD(t testing.TB) *icd.List {
	t.Helper()
	l, err := icd.Open(filepath.Join("..", "testdata", "icd_fixture.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func setup(t testing.TB) (*qc.Engine, *inject.Generator) {
	t.Helper()
	l := mustICD(t)
	e, err := qc.New(qc.Config{ICD: l})
	if err != nil {
		t.Fatal(err)
	}
	g, err := inject.New(inject.Config{Rules: e.Rules(), ICD: l, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	return e, g
}

func TestEvaluateFixture(t *testing.T) {
	e, g := setup(t)
	clean, cases := g.Cases(passages)
	if len(clean) != 14 {
		t.Fatalf("clean records = %d, want 14 (7 types × 2 passages)", len(clean))
	}
	rep, err := inject.Evaluate(t.Context(), e, clean, cases)
	if err != nil {
		t.Fatal(err)
	}
	if rep.CleanFindings != 0 || rep.EngineErrors != 0 {
		t.Errorf("clean findings = %d, engine errors = %d, want 0; examples: %v", rep.CleanFindings, rep.EngineErrors, rep.Examples)
	}
	covered := map[clinic.RuleID]bool{}
	for _, c := range cases {
		covered[c.Rule] = true
	}
	for _, r := range e.Rules() {
		if !covered[r.ID] {
			t.Errorf("rule %s (%s) has no injected case", r.ID, r.Check.Kind)
		}
	}
	for _, k := range rep.Kinds {
		if k.Recall < 1 || k.Precision < 1 || k.LocationAccuracy < 1 {
			t.Errorf("kind %s: recall %.3f precision %.3f location %.3f; examples: %v", k.Kind, k.Recall, k.Precision, k.LocationAccuracy, rep.Examples)
		}
	}
	if len(rep.Kinds) != len(qc.Kinds()) {
		t.Errorf("kinds scored = %d, want %d", len(rep.Kinds), len(qc.Kinds()))
	}
}

// TestEvaluateCountsMisses checks that Evaluate can fail: an engine with
// every rule disabled misses every case.
func TestEvaluateCountsMisses(t *testing.T) {
	_, g := setup(t)
	rs, err := qc.DefaultRules()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range rs.Rules {
		ids = append(ids, string(r.ID))
	}
	if err := rs.ApplyOverride("off.yaml", []byte("disable: ["+strings.Join(ids, ", ")+"]\n")); err != nil {
		t.Fatal(err)
	}
	off, err := qc.New(qc.Config{Rules: rs, ICD: mustICD(t)})
	if err != nil {
		t.Fatal(err)
	}
	clean, cases := g.Cases(passages[:1])
	rep, err := inject.Evaluate(t.Context(), off, clean, cases)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range rep.Kinds {
		if k.Recall != 0 || k.FN == 0 {
			t.Errorf("kind %s: recall %.2f fn %d with all rules disabled", k.Kind, k.Recall, k.FN)
		}
	}
}

func TestInjectLeavesCleanUntouched(t *testing.T) {
	_, g := setup(t)
	clean, cases := g.Cases(passages[1:])
	before, err := json.Marshal(clean)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		if len(c.Defective.Defects) == 0 || c.Defective.Defects[0] != c.Rule {
			t.Fatalf("case %s: gold %v does not start with the rule", c.Defective.ID, c.Defective.Defects)
		}
		if len(c.Clean.Defects) != 0 {
			t.Fatalf("clean twin of %s has defects %v", c.Defective.ID, c.Clean.Defects)
		}
	}
	after, err := json.Marshal(clean)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(before), string(after)); diff != "" {
		t.Errorf("injection changed clean records (-before +after):\n%s", diff)
	}
}

func TestParseYiduLine(t *testing.T) {
	line := `{"originalText": "，患者因“直肠癌”于***医院行手术，大小3×XXX2CM，术后予奥沙利铂化疗。", "entities": [{"label_type": "疾病和诊断", "start_pos": 5, "end_pos": 8}, {"label_type": "药物", "start_pos": 33, "end_pos": 37}, {"label_type": "手术", "start_pos": 99, "end_pos": 120}]}`
	p, err := inject.ParseYiduLine([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	want := inject.Passage{Text: "患者因“直肠癌”于外院医院行手术，大小3×2CM，术后予奥沙利铂化疗。", Diseases: []string{"直肠癌"}, Drugs: []string{"奥沙利铂"}}
	if diff := cmp.Diff(want, p); diff != "" {
		t.Errorf("passage (-want +got):\n%s", diff)
	}
	if _, err := inject.ParseYiduLine([]byte("{")); clinic.ErrorCode(err) != clinic.CodeInvalid {
		t.Errorf("bad line: code %q, want invalid", clinic.ErrorCode(err))
	}
}

// ruleCase is one line of qc/rules/testdata/<rule>.jsonl.
type ruleCase struct {
	Name   string            `json:"name"`
	Fire   bool              `json:"fire"`
	Want   []clinic.Location `json:"want,omitempty"`
	Record qc.Record         `json:"record"`
}

// TestRuleTestdata regenerates (with -update) or checks the per-rule
// testdata: each file must hold a firing case built by the generator and a
// non-firing clean record.
func TestRuleTestdata(t *testing.T) {
	e, g := setup(t)
	dir := filepath.Join("..", "rules", "testdata")
	_, cases := g.Cases(passages)
	for _, r := range e.Rules() {
		i := slices.IndexFunc(cases, func(c inject.Case) bool { return c.Rule == r.ID })
		if i < 0 {
			t.Errorf("rule %s: no case", r.ID)
			continue
		}
		c := cases[i]
		lines := []ruleCase{
			{Name: "fires: injected " + c.Kind + " defect", Fire: true, Want: []clinic.Location{c.Location}, Record: c.Defective},
			{Name: "does not fire: clean record", Fire: false, Record: c.Clean},
		}
		var buf bytes.Buffer
		for _, l := range lines {
			l.Record.Defects = nil
			if l.Fire {
				l.Record.Defects = []clinic.RuleID{r.ID}
			}
			b, err := json.Marshal(l)
			if err != nil {
				t.Fatal(err)
			}
			buf.Write(b)
			buf.WriteByte('\n')
		}
		path := filepath.Join(dir, string(r.ID)+".jsonl")
		if *update {
			if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if _, err := os.Stat(path); err != nil {
			t.Errorf("rule %s: %v (run go test ./qc/inject -run TestRuleTestdata -update)", r.ID, err)
		}
	}
}

var dataDir = flag.String("data", "", "shared data directory (default $YIZHU_DATA); when set, TestYidu scores the engine on the Yidu-S4K passages")

// TestYidu is the real-data measurement: go test ./qc/inject -run TestYidu
// -data ../../../shared/data -v. The directory defaults to $YIZHU_DATA;
// without either it is skipped, unless YIZHU_REQUIRE_DATA=1 (make test sets
// both when ../shared/data is there), which makes a missing directory a
// failure.
func TestYidu(t *testing.T) {
	dir := *dataDir
	if dir == "" {
		dir = os.Getenv("YIZHU_DATA")
	}
	if dir == "" {
		if os.Getenv("YIZHU_REQUIRE_DATA") == "1" {
			t.Fatal("YIZHU_REQUIRE_DATA=1 but neither -data nor YIZHU_DATA names the shared data directory")
		}
		t.Skip("set -data or YIZHU_DATA to the shared data directory to run the Yidu-S4K evaluation")
	}
	l, err := icd.Open(filepath.Join(dir, filepath.FromSlash(icd.DefaultPath)))
	if err != nil {
		t.Fatal(err)
	}
	e, err := qc.New(qc.Config{ICD: l})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := inject.EvaluateYidu(t.Context(), e, l, dir, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("records %d (clean %d), cases %d, clean findings %d, engine errors %d", rep.Records, rep.CleanRecords, rep.Cases, rep.CleanFindings, rep.EngineErrors)
	for _, k := range rep.Kinds {
		t.Logf("%-17s cases %6d  tp %6d fp %4d fn %4d  precision %.4f recall %.4f location %.4f clean %d", k.Kind, k.Cases, k.TP, k.FP, k.FN, k.Precision, k.Recall, k.LocationAccuracy, k.CleanFindings)
		if k.Recall < 0.98 || k.Precision < 0.98 {
			t.Errorf("kind %s below 0.98", k.Kind)
		}
	}
	if rep.CleanFindings != 0 {
		t.Errorf("clean findings %d; examples %v", rep.CleanFindings, rep.Examples)
	}
}
