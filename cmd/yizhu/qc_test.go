package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCmdQCScan(t *testing.T) {
	dir := t.TempDir()
	in := strings.Join([]string{
		`{"id":"a1","type":"入院记录","sections":{"主诉":"咳嗽3天"},"events":{"admitted_at":"2024-05-01 08:00","written_at":"2024-05-01 10:00"}}`,
		`{"id":"a2","type":"ward_round","sections":{}}`,
		`not json`,
		`{"id":"a3","type":"outpatient","sections":{"chief_complaint":"头痛2天"}}`,
	}, "\n") + "\n"
	if err := os.WriteFile(filepath.Join(dir, "in.jsonl"), []byte(in), 0o644); err != nil {
		t.Fatal(err)
	}
	override := filepath.Join(dir, "hospital.yaml")
	if err := os.WriteFile(override, []byte("disable: [ADM-002]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	err := cmdQC(t.Context(), []string{"scan", dir, "--rules", override, "--data", filepath.Join(dir, "nodata"), "--workers", "2"}, nil, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "2 records could not be read") {
		t.Fatalf("err = %v, want 2 unreadable records", err)
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("got %d output lines, want 4:\n%s", len(lines), stdout.String())
	}
	type out struct {
		ID       string `json:"id"`
		Grade    string `json:"grade"`
		Line     int    `json:"line"`
		Error    string `json:"error"`
		Findings []struct {
			RuleID string `json:"rule_id"`
		} `json:"findings"`
	}
	var got []out
	for _, l := range lines {
		var o out
		if err := json.Unmarshal([]byte(l), &o); err != nil {
			t.Fatalf("output %q: %v", l, err)
		}
		got = append(got, o)
	}
	if got[0].ID != "a1" || got[0].Grade == "" || got[3].ID != "a3" {
		t.Errorf("results out of order or incomplete: %+v", got)
	}
	for _, f := range got[0].Findings {
		if f.RuleID == "ADM-002" {
			t.Errorf("ADM-002 fired though the override disabled it")
		}
	}
	if got[1].Line != 2 || !strings.Contains(got[1].Error, "ward_round") || got[2].Line != 3 {
		t.Errorf("bad lines not reported with their line numbers: %+v %+v", got[1], got[2])
	}
	if !strings.Contains(stderr.String(), "2 records") {
		t.Errorf("summary missing: %s", stderr.String())
	}
}

func TestCmdQCUsage(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := cmdQC(t.Context(), []string{"lint"}, nil, &stdout, &stderr); err == nil {
		t.Error("unknown subcommand accepted")
	}
	if err := cmdQC(t.Context(), []string{"scan"}, nil, &stdout, &stderr); err == nil {
		t.Error("missing input accepted")
	}
	err := cmdQC(t.Context(), []string{"scan", "-", "--rules", filepath.Join(t.TempDir(), "missing.yaml")}, strings.NewReader(""), &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("missing override: err = %v", err)
	}
}
