package scribe_test

import (
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/yizhu-health/yizhu/agents/scribe"
	"github.com/yizhu-health/yizhu/agents/triage"
	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/prompts"
)

func TestVocabulary(t *testing.T) {
	v := scribe.DefaultVocabulary()
	if len(v.Terms()) < 150 {
		t.Errorf("embedded vocabulary has %d terms", len(v.Terms()))
	}
	if tm, ok := v.Term("penicillin"); !ok || tm.Kind != scribe.KindDrug || tm.NameZH != "青霉素" {
		t.Errorf("penicillin = %+v %v", tm, ok)
	}
	for _, tc := range []struct{ name, yaml string }{
		{"unknown field", "version: 1\nterms:\n  - {code: a, kind: symptom, zh_name: 甲, en_name: a, colour: red}\n"},
		{"duplicate code", "version: 1\nterms:\n  - {code: a, kind: symptom, zh_name: 甲, en_name: a}\n  - {code: a, kind: drug, zh_name: 乙, en_name: b}\n"},
		{"bad kind", "version: 1\nterms:\n  - {code: a, kind: feeling, zh_name: 甲, en_name: a}\n"},
		{"bad version", "version: 2\nterms:\n  - {code: a, kind: symptom, zh_name: 甲, en_name: a}\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := scribe.LoadVocabulary([]byte(tc.yaml), nil); clinic.ErrorCode(err) != clinic.CodeInvalid {
				t.Errorf("err = %v", err)
			}
		})
	}
	ext, err := scribe.LoadVocabulary([]byte("version: 1\nterms:\n  - {code: a, kind: symptom, zh_name: 甲状, en_name: a}\n"), triage.DefaultLexicon())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := ext.Term("triage.fever"); !ok {
		t.Error("triage lexicon findings were not added")
	}
}

func TestEngineNeedsPhrases(t *testing.T) {
	fsys := fstest.MapFS{}
	emb := prompts.Embedded()
	for _, name := range []string{"json_repair.prompt", "scribe_section.prompt"} {
		b, err := fs.ReadFile(emb, name)
		if err != nil {
			t.Fatal(err)
		}
		fsys[name] = &fstest.MapFile{Data: b}
	}
	set, err := prompts.Load(fsys)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := scribe.New(scribe.Config{Prompts: set}); err == nil || !strings.Contains(err.Error(), scribe.PhrasesPromptID) {
		t.Errorf("err = %v, want the missing phrase prompt named", err)
	}
}
