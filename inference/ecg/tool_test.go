package ecg_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/inference/ecg"
	"github.com/yizhu-health/yizhu/inference/ecg/ecgsynth"
)

func toolArgs(t *testing.T, cfg ecgsynth.Config, extra map[string]any) json.RawMessage {
	t.Helper()
	rec, _ := record(t, cfg)
	leads := []map[string]any{}
	for _, l := range rec.Leads {
		leads = append(leads, map[string]any{"name": l.Name, "samples_mv": l.Samples})
	}
	m := map[string]any{"rate_hz": cfg.RateHz, "leads": leads}
	for k, v := range extra {
		m[k] = v
	}
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestAnalyzeTool(t *testing.T) {
	tool := ecg.AnalyzeTool()
	if tool.Name != "ecg.analyze" || tool.Parameters["type"] != "object" {
		t.Fatalf("tool spec %q %v", tool.Name, tool.Parameters["type"])
	}
	sinus := ecgsynth.Config{RateHz: 500, Seed: 3, NoiseMV: 0.02, Leads: twelve,
		Segments: []ecgsynth.Segment{{Kind: ecgsynth.Sinus, Seconds: 10, RateBPM: 75}}}
	stemi := sinus
	stemi.STmV = map[string]float64{"II": 0.25, "III": 0.2, "aVF": 0.25}
	vf := ecgsynth.Config{RateHz: 250, Seed: 4, NoiseMV: 0.02, Leads: []string{"II"},
		Segments: []ecgsynth.Segment{{Kind: ecgsynth.Sinus, Seconds: 10, RateBPM: 75}, {Kind: ecgsynth.VF, Seconds: 15}}}
	for _, tc := range []struct {
		name      string
		args      json.RawMessage
		critical  bool
		wantAlert string
		wantCode  clinic.Code
	}{
		{name: "normal 12-lead", args: toolArgs(t, sinus, map[string]any{"sex": "M", "age_years": 50})},
		{name: "inferior STEMI", args: toolArgs(t, stemi, nil), critical: true, wantAlert: "ecg.stemi"},
		{name: "VF", args: toolArgs(t, vf, map[string]any{"mains_hz": 60}), critical: true, wantAlert: "ecg.vf"},
		{name: "rate too low", args: json.RawMessage(`{"rate_hz":100,"leads":[{"name":"II","samples_mv":[0,1,0]}]}`), wantCode: clinic.CodeInvalid},
		{name: "no leads", args: json.RawMessage(`{"rate_hz":250,"leads":[]}`), wantCode: clinic.CodeInvalid},
		{name: "unnamed lead", args: json.RawMessage(`{"rate_hz":250,"leads":[{"name":"","samples_mv":[0]}]}`), wantCode: clinic.CodeInvalid},
		{name: "ragged leads", args: json.RawMessage(`{"rate_hz":250,"leads":[{"name":"I","samples_mv":[0,1]},{"name":"II","samples_mv":[0]}]}`), wantCode: clinic.CodeInvalid},
		{name: "unknown field", args: json.RawMessage(`{"rate_hz":250,"leads":[{"name":"II","samples_mv":[0]}],"patient":"x"}`), wantCode: clinic.CodeInvalid},
		{name: "bad sex", args: json.RawMessage(`{"rate_hz":250,"sex":"X","leads":[{"name":"II","samples_mv":[0]}]}`), wantCode: clinic.CodeInvalid},
		{name: "bad age", args: json.RawMessage(`{"rate_hz":250,"age_years":200,"leads":[{"name":"II","samples_mv":[0]}]}`), wantCode: clinic.CodeInvalid},
		{name: "bad mains", args: json.RawMessage(`{"rate_hz":250,"mains_hz":55,"leads":[{"name":"II","samples_mv":[0]}]}`), wantCode: clinic.CodeInvalid},
		{name: "not an object", args: json.RawMessage(`[1,2]`), wantCode: clinic.CodeInvalid},
		{name: "sample out of float32 range", args: json.RawMessage(`{"rate_hz":250,"leads":[{"name":"II","samples_mv":[1e300]}]}`), wantCode: clinic.CodeInvalid},
		{name: "longer than 60 s", args: toolArgs(t, ecgsynth.Config{RateHz: 125, Seed: 1, Segments: []ecgsynth.Segment{{Kind: ecgsynth.Sinus, Seconds: 61, RateBPM: 70}}}, nil), wantCode: clinic.CodeTooLarge},
		{name: "arguments too large", args: json.RawMessage(`{"rate_hz":250,"leads":[{"name":"II","samples_mv":[` + strings.Repeat("0,", 5<<20) + `0]}]}`), wantCode: clinic.CodeTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := tool.Call(t.Context(), tc.args)
			if tc.wantCode != "" {
				var ce *clinic.Error
				if !errors.As(err, &ce) || ce.Code != tc.wantCode {
					t.Fatalf("err = %v, want code %s", err, tc.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			res := out.(ecg.ToolResult)
			if res.Critical != tc.critical || !res.Draft {
				t.Errorf("critical = %v draft = %v, want %v true; alerts %+v", res.Critical, res.Draft, tc.critical, res.Alerts)
			}
			found := tc.wantAlert == ""
			for _, a := range res.Alerts {
				found = found || string(a.RuleID) == tc.wantAlert
				if a.Source == "" || a.EndS < a.StartS {
					t.Errorf("alert %+v lacks source or times", a)
				}
			}
			if !found {
				t.Errorf("alert %s missing: %+v", tc.wantAlert, res.Alerts)
			}
			if res.BeatCounts[ecg.LabelNormal] == 0 {
				t.Errorf("no normal beats: %v", res.BeatCounts)
			}
			b, err := json.Marshal(res)
			if err != nil || len(b) > 32<<10 {
				t.Errorf("result %d bytes (err %v), want ≤ 32 KiB", len(b), err)
			}
		})
	}
}

func FuzzAnalyzeTool(f *testing.F) {
	f.Add([]byte(`{"rate_hz":250,"leads":[{"name":"II","samples_mv":[0,1,0,-1]}]}`))
	f.Add([]byte(`{"rate_hz":1000,"sex":"F","age_years":30,"leads":[{"name":"V2","samples_mv":[5,5,5]}]}`))
	f.Add([]byte(`{}`))
	tool := ecg.AnalyzeTool()
	f.Fuzz(func(t *testing.T, raw []byte) {
		out, err := tool.Call(t.Context(), raw)
		if err == nil {
			if _, ok := out.(ecg.ToolResult); !ok {
				t.Fatalf("result %T", out)
			}
		}
	})
}
