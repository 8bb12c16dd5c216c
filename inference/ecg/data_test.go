package ecg_test

import (
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/yizhu-health/yizhu/inference/ecg"
	"github.com/yizhu-health/yizhu/inference/ecg/wfdb"
)

var dataFlag = flag.String("data", "", "directory of the shared evaluation data (default $YIZHU_DATA or ../../../shared/data)")

// ecgData returns an fs.FS over the shared ECG data or skips the test.
func ecgData(t *testing.T) (string, bool) {
	t.Helper()
	dir := *dataFlag
	if dir == "" {
		dir = os.Getenv("YIZHU_DATA")
	}
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "data")
	}
	dir = filepath.Join(dir, "ecg")
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("YIZHU_REQUIRE_DATA") == "1" {
			t.Fatalf("YIZHU_REQUIRE_DATA=1 but shared ECG data not found at %s: %v", dir, err)
		}
		t.Skipf("shared ECG data not found at %s (set -data or YIZHU_DATA): %v", dir, err)
	}
	return dir, true
}

func analyzeFile(t *testing.T, dir, name string) (ecg.Report, []wfdb.Annotation, *wfdb.Record) {
	t.Helper()
	fsys := os.DirFS(dir)
	w, err := wfdb.ReadRecord(fsys, name)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := ecg.FromWFDB(w)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := ecg.Analyze(t.Context(), rec)
	if err != nil {
		t.Fatal(err)
	}
	var anns []wfdb.Annotation
	if f, err := fsys.Open(name + ".atr"); err == nil {
		defer f.Close()
		if anns, err = wfdb.ReadAnnotations(f); err != nil {
			t.Fatal(err)
		}
	}
	return rep, anns, w
}

// TestQRSDetectionOnReferenceRecords measures gross sensitivity and
// positive predictivity (150 ms window, beat annotations only) on the
// annotated PhysioNet records. Floors are the target, 99.5 %.
func TestQRSDetectionOnReferenceRecords(t *testing.T) {
	dir, _ := ecgData(t)
	const floor = 0.995
	var gross ecg.Match
	for _, name := range []string{"physionet/mitdb/100", "physionet/svdb/800"} {
		rep, anns, _ := analyzeFile(t, dir, name)
		m := ecg.ScoreBeats(rep, anns)
		gross = gross.Add(m)
		t.Logf("%s: TP %d FN %d FP %d  Se %.2f %%  +P %.2f %%", name, m.TP, m.FN, m.FP, 100*m.Sensitivity(), 100*m.PositivePredictivity())
		if m.Sensitivity() < floor || m.PositivePredictivity() < floor {
			t.Errorf("%s: Se %.4f +P %.4f, want ≥ %g", name, m.Sensitivity(), m.PositivePredictivity(), floor)
		}
	}
	t.Logf("gross: Se %.2f %%  +P %.2f %%", 100*gross.Sensitivity(), 100*gross.PositivePredictivity())
}

// ptbManualST is a manual reading of PTB s0010_re (acute infero-lateral MI,
// 2 days after lysis; RBBB, QRS about 140 ms): the plain average of its 51
// beats from the raw samples, PR baseline the 20 ms before QRS onset, J at
// the global QRS offset (the spatial velocity of the average back to 5 %
// of its range, 98 ms after R), J+80 ms levels over 20 ms. Values in mV:
// at J, at J+80.
var ptbManualST = map[string][2]float64{
	"i": {-0.066, -0.024}, "ii": {0.030, 0.001}, "iii": {0.096, 0.025}, "avr": {0.018, 0.012},
	"avl": {-0.081, -0.024}, "avf": {0.063, 0.013}, "v1": {-0.050, -0.091}, "v2": {-0.121, -0.088},
	"v3": {-0.140, -0.102}, "v4": {-0.060, -0.057}, "v5": {0.008, -0.017}, "v6": {0.013, -0.009},
}

// TestCriticalValuesOnRealRecords: the two Challenge 2015 false alarms
// must raise no VT, VF or asystole alert, and the ST levels of the PTB
// acute MI record must agree with the manual reading (ptbManualST) within
// 0.03 mV at the J point (which sits on the steep end of a wide QRS) and
// 0.02 mV at J+80. Whether that record is flagged is logged, not
// asserted: read correctly, only lead III comes near 0.1 mV at J (aVF
// about 0.06, II about 0.03), so the 4th UDMI criterion of two contiguous
// leads is not met.
func TestCriticalValuesOnRealRecords(t *testing.T) {
	dir, _ := ecgData(t)
	rep, _, _ := analyzeFile(t, dir, "physionet/ptbdb/s0010_re")
	if rep.Measurements == nil {
		t.Fatal("PTB s0010_re: no measurements")
	}
	var st []string
	seen := 0
	for _, x := range rep.Measurements.ST {
		st = append(st, fmt.Sprintf("%s %+.3f/%+.3f", x.Lead, x.JmV, x.STmV))
		want, ok := ptbManualST[x.Lead]
		if !ok {
			continue
		}
		seen++
		if math.Abs(x.JmV-want[0]) > 0.03 || math.Abs(x.STmV-want[1]) > 0.02 || x.AtMs != 80 {
			t.Errorf("PTB s0010_re lead %s: J %+.3f, J+%d %+.3f mV; manual reading J %+.3f, J+80 %+.3f", x.Lead, x.JmV, x.AtMs, x.STmV, want[0], want[1])
		}
	}
	if seen != len(ptbManualST) {
		t.Errorf("PTB s0010_re: ST of %d of the 12 standard leads", seen)
	}
	t.Logf("PTB s0010_re (acute infero-lateral MI): QRS %.0f ms, J %.0f ms after the fiducial; STEMI alert %v, st_elevation finding %v; ST at J / J+%d (mV): %s",
		rep.Measurements.QRSms, rep.Measurements.JAfterRms, hasAlert(rep, "ecg.stemi"), hasFinding(rep, "st_elevation"),
		rep.Measurements.ST[0].AtMs, strings.Join(st, " "))
	for _, name := range []string{"physionet/challenge2015/v102s", "physionet/challenge2015/a103l"} {
		rep, _, _ := analyzeFile(t, dir, name)
		for _, id := range []string{"ecg.vt_sustained", "ecg.vf", "ecg.pause"} {
			if hasAlert(rep, id) {
				t.Errorf("%s (a false alarm): raised %s", name, id)
			}
		}
	}
}

func hasFinding(rep ecg.Report, code string) bool {
	for _, f := range rep.Findings {
		if f.Code == code {
			return true
		}
	}
	return false
}

func hasAlert(rep ecg.Report, id string) bool {
	for _, a := range rep.Alerts {
		if string(a.RuleID) == id {
			return true
		}
	}
	return false
}

// TestAFEpisodesCPSC2021 reports AF episode sensitivity on the CPSC 2021
// records (reference rhythm annotations "(AFIB").
func TestAFEpisodesCPSC2021(t *testing.T) {
	dir, _ := ecgData(t)
	entries, err := os.ReadDir(filepath.Join(dir, "challenge12", "cpsc2021"))
	if err != nil {
		t.Fatalf("the shared ECG data has no cpsc2021 records: %v", err)
	}
	var found, total, falseEp int
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".hea")
		if !ok {
			continue
		}
		rep, anns, w := analyzeFile(t, dir, "challenge12/cpsc2021/"+name)
		ref := wfdb.Rhythms(anns, int64(w.Len()))
		f, n, fe := ecg.MatchEpisodes(ref, "AFIB", rep.Rhythms, ecg.RhythmAF)
		found, total, falseEp = found+f, total+n, falseEp+fe
		t.Logf("%s: AF episodes found %d/%d, false %d", name, f, n, fe)
	}
	// The target: 90 % of the reference episodes found.
	const floor = 0.9
	if total > 0 {
		t.Logf("AF episode sensitivity %.1f %% (%d/%d), false episodes %d (target 90 %%)", 100*float64(found)/float64(total), found, total, falseEp)
		if float64(found) < floor*float64(total) {
			t.Errorf("AF episode sensitivity %d/%d, want ≥ %g", found, total, floor)
		}
	}
}

// TestKnownFalseCriticalsOnRealRecords: records whose critical values
// were false raise them no more. MIT-BIH 108 (sinus rhythm, large P
// waves, muscle and motion noise on one lead at a time; no VF) raised VF;
// SVDB 800 (sinus rhythm about 50/min, P waves too weak to see) raised
// third-degree AV block; CPSC 2018 A0001 (RBBB, ST elevation in V4–V6
// discordant to S waves of about 0.9 mV) raised STEMI, and now carries
// the non-critical note instead. PTB s0010_re (infero-lateral MI) is
// flagged by its inferior Q waves.
func TestKnownFalseCriticalsOnRealRecords(t *testing.T) {
	dir, _ := ecgData(t)
	for _, tc := range []struct {
		name, rule, finding string
	}{
		{"physionet/mitdb/108", "ecg.vf", ""},
		{"physionet/svdb/800", "ecg.av_block_3", "p_waves_not_measurable"},
		{"challenge12/cpsc2018/A0001", "ecg.stemi", "st_elevation_conduction_delay"},
	} {
		rep, _, _ := analyzeFile(t, dir, tc.name)
		if hasAlert(rep, tc.rule) {
			t.Errorf("%s: raised %s", tc.name, tc.rule)
		}
		if tc.finding != "" && !hasFinding(rep, tc.finding) {
			t.Errorf("%s: no %s finding", tc.name, tc.finding)
		}
	}
	rep, _, _ := analyzeFile(t, dir, "physionet/ptbdb/s0010_re")
	for _, f := range rep.Findings {
		if f.Code == "q_wave_infarction" {
			t.Logf("PTB s0010_re: %s", f.Title)
			if strings.Join(f.Leads, ",") != "ii,avf" {
				t.Errorf("PTB s0010_re: Q-wave leads %v, want the inferior ii, avf", f.Leads)
			}
			return
		}
	}
	t.Errorf("PTB s0010_re: no q_wave_infarction finding; Q waves %+v", rep.Measurements.Q)
}
