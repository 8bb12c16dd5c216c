package triage_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/yizhu-health/yizhu/agents/triage"
	"github.com/yizhu-health/yizhu/clinic"
)

func readFixture(t testing.TB) []triage.Row {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "routing_small.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := triage.ReadRoutingCSV(f)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestReadRoutingCSV(t *testing.T) {
	rows := readFixture(t)
	if len(rows) != 32 {
		t.Fatalf("%d rows, want 32", len(rows))
	}
	if diff := cmp.Diff(triage.Row{Department: "心血管科", Text: "高血压吃什么药好。医生您好，高血压吃什么药好？"}, rows[0]); diff != "" {
		t.Errorf("row 0 (-want +got):\n%s", diff)
	}
	got, err := triage.ReadRoutingCSV(strings.NewReader("\ufeffdept,text\n消化科,胃痛\n,空\n神经科,\n"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]triage.Row{{Department: "消化科", Text: "胃痛"}}, got); diff != "" {
		t.Errorf("BOM/dept/text (-want +got):\n%s", diff)
	}
	for _, bad := range []string{"", "title,ask\n甲,乙\n", "department,answer\n甲,乙\n", "department,text\n\"unterminated\n"} {
		if _, err := triage.ReadRoutingCSV(strings.NewReader(bad)); clinic.ErrorCode(err) != clinic.CodeInvalid {
			t.Errorf("ReadRoutingCSV(%q) err = %v, want invalid", bad, err)
		}
	}
}

func TestRouterTrainPredictSaveLoad(t *testing.T) {
	rows := readFixture(t)
	r, err := triage.Train(rows)
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]string{"血压高头晕": "心血管科", "乙肝转氨酶": "肝病科", "胃胀反酸": "消化科", "癫痫头痛": "神经科"}
	for text, want := range tests {
		if got := r.Predict(text)[0].Label; got != want {
			t.Errorf("Predict(%s) = %s, want %s", text, got, want)
		}
	}
	var sum float64
	for _, ls := range r.Predict("胃痛") {
		sum += ls.P
	}
	if sum < 0.999 || sum > 1.001 {
		t.Errorf("probabilities sum to %v", sum)
	}
	var buf bytes.Buffer
	if err := r.Save(&buf); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "model.json")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	back, err := triage.LoadRouter(f)
	if err != nil {
		t.Fatal(err)
	}
	for text := range tests {
		if diff := cmp.Diff(r.Predict(text), back.Predict(text)); diff != "" {
			t.Errorf("Predict(%s) after reload (-want +got):\n%s", text, diff)
		}
	}
	if _, err := triage.Train(rows[:8]); clinic.ErrorCode(err) != clinic.CodeInvalid {
		t.Errorf("one department: err = %v, want invalid", err)
	}
}

func TestLoadRouterErrors(t *testing.T) {
	good := `{"format":"yizhu-triage-router","version":1,"min_n":1,"max_n":3,"alpha":0.1,"min_count":1,"labels":["a","b"],"docs":[1,1],"grams":{"x":[1,0]}}`
	if _, err := triage.LoadRouter(strings.NewReader(good)); err != nil {
		t.Fatalf("good model: %v", err)
	}
	tests := map[string]string{
		"format":        strings.Replace(good, "yizhu-triage-router", "other", 1),
		"version":       strings.Replace(good, `"version":1`, `"version":2`, 1),
		"unknown field": strings.Replace(good, `"alpha"`, `"beta":1,"alpha"`, 1),
		"alpha":         strings.Replace(good, `"alpha":0.1`, `"alpha":-1`, 1),
		"vector length": strings.Replace(good, `[1,0]`, `[1]`, 1),
		"negative":      strings.Replace(good, `[1,0]`, `[1,-3]`, 1),
		"gram length":   strings.Replace(good, `"x"`, `"xxxx"`, 1),
		"one label":     strings.Replace(strings.Replace(good, `["a","b"]`, `["a"]`, 1), `[1,1]`, `[1]`, 1),
		"repeated":      strings.Replace(good, `["a","b"]`, `["a","a"]`, 1),
		"trailing":      good + "{}",
		"not json":      "model",
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := triage.LoadRouter(strings.NewReader(in)); clinic.ErrorCode(err) != clinic.CodeInvalid {
				t.Fatalf("err = %v, want invalid", err)
			}
		})
	}
}

func TestCrossValidateFixture(t *testing.T) {
	rows := readFixture(t)
	cv, err := triage.CrossValidate(t.Context(), rows, triage.CVConfig{Folds: 4, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	if cv.Router.N != len(rows) || cv.Router.Top3 < cv.Router.Top1 || cv.Router.Top1 <= 0.25 {
		t.Errorf("cv = %+v", cv.Router)
	}
	again, _ := triage.CrossValidate(t.Context(), rows, triage.CVConfig{Folds: 4, Seed: 7})
	if diff := cmp.Diff(cv, again); diff != "" {
		t.Errorf("same seed, different result (-first +second):\n%s", diff)
	}
	e := newEngine(t, triage.Config{})
	kb, err := triage.EvalRouting(t.Context(), e, rows, triage.RoutingOptions{LabelsOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if kb.Top1 < 0.75 {
		t.Errorf("KB top-1 on the fixture = %.2f, want ≥ 0.75", kb.Top1)
	}
}

func FuzzLoadRouter(f *testing.F) {
	f.Add(`{"format":"yizhu-triage-router","version":1,"min_n":1,"max_n":3,"alpha":0.1,"min_count":1,"labels":["a","b"],"docs":[1,1],"grams":{"x":[1,0]}}`)
	f.Add(`{"format":"yizhu-triage-router"}`)
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		r, err := triage.LoadRouter(strings.NewReader(s))
		if err != nil {
			if clinic.ErrorCode(err) != clinic.CodeInvalid && clinic.ErrorCode(err) != clinic.CodeTooLarge {
				t.Fatalf("error code %s", clinic.ErrorCode(err))
			}
			return
		}
		var sum float64
		for _, ls := range r.Predict("胸痛 chest pain") {
			sum += ls.P
		}
		if sum < 0.99 || sum > 1.01 {
			t.Fatalf("probabilities sum to %v", sum)
		}
	})
}

func FuzzReadRoutingCSV(f *testing.F) {
	f.Add("department,title,ask\n消化科,胃痛,胃痛三天\n")
	f.Add("dept,text\n\"a,b\",c\n")
	f.Fuzz(func(t *testing.T, s string) {
		rows, err := triage.ReadRoutingCSV(strings.NewReader(s))
		if err != nil {
			return
		}
		for _, r := range rows {
			if r.Department == "" || r.Text == "" {
				t.Fatalf("empty field in %+v", r)
			}
		}
	})
}

func FuzzReadVignettes(f *testing.F) {
	f.Add(`{"id":"a","text":"胸痛","acuity":2,"red_flag":"RF-CHEST"}`)
	f.Add("{}\n{\"id\":1}")
	f.Fuzz(func(t *testing.T, s string) {
		vs, err := triage.ReadVignettes(strings.NewReader(s))
		if err != nil {
			return
		}
		for _, v := range vs {
			if v.ID == "" || !v.Acuity.Valid() {
				t.Fatalf("invalid vignette accepted: %+v", v)
			}
		}
	})
}
