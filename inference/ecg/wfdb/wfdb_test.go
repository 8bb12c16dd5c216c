package wfdb_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/inference/ecg/wfdb"
)

var dataFlag = flag.String("data", "", "directory of the shared evaluation data (default $YIZHU_DATA or ../../../../shared/data)")

// dataDir returns the shared data directory or skips the test.
func dataDir(t *testing.T) string {
	t.Helper()
	dir := *dataFlag
	if dir == "" {
		dir = os.Getenv("YIZHU_DATA")
	}
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "..", "shared", "data")
	}
	if _, err := os.Stat(filepath.Join(dir, "ecg")); err != nil {
		if os.Getenv("YIZHU_REQUIRE_DATA") == "1" {
			t.Fatalf("YIZHU_REQUIRE_DATA=1 but shared ECG data not found at %s: %v", dir, err)
		}
		t.Skipf("shared ECG data not found at %s (set -data or YIZHU_DATA): %v", dir, err)
	}
	return filepath.Join(dir, "ecg")
}

// pack212 encodes interleaved 12-bit samples in format 212.
func pack212(s []int) []byte {
	var b []byte
	for i := 0; i < len(s); i += 2 {
		a := s[i] & 0xfff
		c := 0
		if i+1 < len(s) {
			c = s[i+1] & 0xfff
		}
		b = append(b, byte(a), byte(a>>8&0x0f)|byte(c>>8&0x0f)<<4)
		if i+1 < len(s) {
			b = append(b, byte(c))
		}
	}
	return b
}

func pack16(s []int) []byte {
	b := make([]byte, 2*len(s))
	for i, v := range s {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(int16(v)))
	}
	return b
}

func checksum(s []int, k, nsig int) int {
	var sum int
	for i := k; i < len(s); i += nsig {
		sum += s[i]
	}
	return int(int16(sum))
}

func TestReadRecordFormats(t *testing.T) {
	// Two leads, 4 frames, interleaved.
	digital := []int{100, -5, 200, 0, -300, 2047 - 2, 1023, -2047}
	sig := func(file, fmtf string, k int) string {
		return file + " " + fmtf + " 200(10)/mV 12 0 " + itoa(digital[k]) + " " + itoa(checksum(digital, k, 2)) + " 0 lead" + itoa(k)
	}
	want := [][]float32{{0.45, 0.95, -1.55, 5.065}, {-0.075, -0.05, 10.175, -10.285}}
	for _, tc := range []struct {
		name string
		fs   fstest.MapFS
	}{
		{"212", fstest.MapFS{
			"r.hea": {Data: []byte("r 2 360 4\n" + sig("r.dat", "212", 0) + "\n" + sig("r.dat", "212", 1) + "\n# comment\n")},
			"r.dat": {Data: pack212(digital)},
		}},
		{"16", fstest.MapFS{
			"r.hea": {Data: []byte("r 2 360 4\n" + sig("r.dat", "16", 0) + "\n" + sig("r.dat", "16", 1) + "\n")},
			"r.dat": {Data: pack16(digital)},
		}},
		{"multi-file", fstest.MapFS{
			"r.hea": {Data: []byte("r 2 360 4\n" + sig("a.dat", "16", 0) + "\n" + sig("b.dat", "212", 1) + "\n")},
			"a.dat": {Data: pack16([]int{100, 200, -300, 1023})},
			"b.dat": {Data: pack212([]int{-5, 0, 2045, -2047})},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec, err := wfdb.ReadRecord(tc.fs, "r")
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(want, rec.Samples, cmp.Comparer(func(a, b float32) bool { return math.Abs(float64(a-b)) < 1e-5 })); d != "" {
				t.Errorf("samples (-want +got):\n%s", d)
			}
			if rec.Leads[1].Name != "lead1" || rec.Leads[0].Units != "mV" || rec.FrequencyHz != 360 {
				t.Errorf("leads %+v rate %g", rec.Leads, rec.FrequencyHz)
			}
		})
	}
}

func itoa(v int) string { return strconv.Itoa(v) }

// matFile builds a MATLAB v4 int16 matrix of nsig rows, column-major.
func matFile(nsig int, frames []int) []byte {
	var b bytes.Buffer
	for _, v := range []uint32{30, uint32(nsig), uint32(len(frames) / nsig), 0, 4} {
		binary.Write(&b, binary.LittleEndian, v)
	}
	b.WriteString("val\x00")
	b.Write(pack16(frames))
	return b.Bytes()
}

func TestReadChallengeMat(t *testing.T) {
	frames := []int{1, 2, 3, 4, 5, 6}
	fs := fstest.MapFS{
		"m.hea": {Data: []byte("m 2 500 3\nm.mat 16x1+24 1000.0(0)/mV 16 0 1 9 0 I\nm.mat 16x1+24 1000.0(0)/mV 16 0 2 12 0 II\n")},
		"m.mat": {Data: matFile(2, frames)},
	}
	rec, err := wfdb.ReadRecord(fs, "m.hea")
	if err != nil {
		t.Fatal(err)
	}
	want := [][]float32{{0.001, 0.003, 0.005}, {0.002, 0.004, 0.006}}
	if d := cmp.Diff(want, rec.Samples); d != "" {
		t.Errorf("samples (-want +got):\n%s", d)
	}
	bad := fstest.MapFS{
		"m.hea": fs["m.hea"],
		"m.mat": {Data: matFile(3, []int{1, 2, 3, 4, 5, 6})},
	}
	if _, err := wfdb.ReadRecord(bad, "m"); !errors.Is(err, wfdb.ErrFormat) {
		t.Errorf("mismatched .mat: err = %v, want ErrFormat", err)
	}
}

func TestReadRecordErrors(t *testing.T) {
	good := "r 1 250 4\nr.dat 16 200/mV 16 0 10 100 0 II\n"
	data := pack16([]int{10, 20, 30, 40})
	for _, tc := range []struct {
		name     string
		hea      string
		dat      []byte
		wantCode clinic.Code
	}{
		{"truncated dat", good, data[:6], clinic.CodeInvalid},
		{"bad checksum", strings.Replace(good, " 100 ", " 101 ", 1), data, clinic.CodeInvalid},
		{"bad initial value", strings.Replace(good, " 10 100", " 11 100", 1), data, clinic.CodeInvalid},
		{"zero gain", strings.Replace(good, "200/mV", "0/mV", 1), data, clinic.CodeInvalid},
		{"nan gain", strings.Replace(good, "200/mV", "NaN/mV", 1), data, clinic.CodeInvalid},
		{"unsupported format", strings.Replace(good, "r.dat 16", "r.dat 311", 1), data, clinic.CodeInvalid},
		{"rate too low", strings.Replace(good, " 250 ", " 100 ", 1), data, clinic.CodeInvalid},
		{"rate too high", strings.Replace(good, " 250 ", " 2000 ", 1), data, clinic.CodeInvalid},
		{"multi-segment", strings.Replace(good, "r 1", "r/2 1", 1), data, clinic.CodeInvalid},
		{"path escape", strings.Replace(good, "r.dat 16", "../r.dat 16", 1), data, clinic.CodeInvalid},
		{"missing signal line", "r 2 250 4\nr.dat 16 200 16 0 10 100 0 II\n", data, clinic.CodeInvalid},
		{"too many samples", strings.Replace(good, " 4\n", " 99999999999\n", 1), data, clinic.CodeTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := fstest.MapFS{"r.hea": {Data: []byte(tc.hea)}, "r.dat": {Data: tc.dat}}
			_, err := wfdb.ReadRecord(fs, "r")
			if err == nil {
				t.Fatal("err = nil, want an error")
			}
			if got := clinic.ErrorCode(err); got != tc.wantCode {
				t.Errorf("code = %q, want %q (%v)", got, tc.wantCode, err)
			}
			if tc.wantCode == clinic.CodeInvalid && !errors.Is(err, wfdb.ErrFormat) {
				t.Errorf("err = %v, want it to wrap ErrFormat", err)
			}
		})
	}
	t.Run("missing file", func(t *testing.T) {
		_, err := wfdb.ReadRecord(fstest.MapFS{"r.hea": {Data: []byte(good)}}, "r")
		if got := clinic.ErrorCode(err); got != clinic.CodeNotFound {
			t.Errorf("code = %q, want not_found (%v)", got, err)
		}
	})
}

// annWord encodes one annotation word.
func annWord(code, val int) []byte {
	return binary.LittleEndian.AppendUint16(nil, uint16(code<<10|val&0x3ff))
}

func TestReadAnnotations(t *testing.T) {
	var b []byte
	b = append(b, annWord(28, 10)...) // "+" at 10
	aux := "(AFIB"
	b = append(b, annWord(63, len(aux))...)
	b = append(b, aux...)
	b = append(b, 0)                 // pad to even
	b = append(b, annWord(1, 5)...)  // N at 15
	b = append(b, annWord(59, 0)...) // SKIP 100000
	b = binary.LittleEndian.AppendUint16(b, 1)
	b = binary.LittleEndian.AppendUint16(b, 100000-65536)
	b = append(b, annWord(5, 3)...)  // V at 15+100000+3
	b = append(b, annWord(62, 1)...) // CHN 1 on V
	b = append(b, annWord(61, 2)...) // SUB 2 on V
	b = append(b, annWord(14, 2)...) // noise, chan carries over
	b = append(b, 0, 0)
	got, err := wfdb.ReadAnnotations(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	want := []wfdb.Annotation{
		{Sample: 10, Code: 28, Symbol: "+", Aux: "(AFIB"},
		{Sample: 15, Code: 1, Symbol: "N"},
		{Sample: 100018, Code: 5, Symbol: "V", Chan: 1, Sub: 2},
		{Sample: 100020, Code: 14, Symbol: "~", Chan: 1},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("annotations (-want +got):\n%s", d)
	}
	eps := wfdb.Rhythms(got, 200000)
	if d := cmp.Diff([]wfdb.RhythmEpisode{{Start: 10, End: 200000, Rhythm: "AFIB"}}, eps); d != "" {
		t.Errorf("rhythms (-want +got):\n%s", d)
	}
	for _, bad := range [][]byte{b[:3], append(annWord(63, 8), 'x'), annWord(61, 1)} {
		if _, err := wfdb.ReadAnnotations(bytes.NewReader(bad)); !errors.Is(err, wfdb.ErrFormat) {
			t.Errorf("ReadAnnotations(% x): err = %v, want ErrFormat", bad, err)
		}
	}
}

func TestReadCSV(t *testing.T) {
	rec, err := wfdb.ReadCSV(strings.NewReader("time,I,II\n0,0.1,0.2\n0.002,-0.1,1e-1\n"), "x", 500)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([][]float32{{0.1, -0.1}, {0.2, 0.1}}, rec.Samples); d != "" {
		t.Errorf("samples (-want +got):\n%s", d)
	}
	for _, tc := range []struct{ name, in string }{
		{"nan", "I\nNaN\n"},
		{"inf", "I\n+Inf\n"},
		{"overflow", "I\n1e300\n"},
		{"text", "I\nabc\n"},
		{"ragged", "I,II\n1\n"},
		{"empty", "I\n"},
		{"no header", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := wfdb.ReadCSV(strings.NewReader(tc.in), "x", 500); !errors.Is(err, wfdb.ErrFormat) {
				t.Errorf("err = %v, want ErrFormat", err)
			}
		})
	}
	if _, err := wfdb.ReadCSV(strings.NewReader("I\n1\n"), "x", 50); clinic.ErrorCode(err) != clinic.CodeInvalid {
		t.Errorf("rate 50 Hz: err = %v, want invalid", err)
	}
}

// TestRealRecords reads the shared PhysioNet files. Expected counts come
// from ../shared/data/ecg/physionet/SOURCE.md (mitdb 100: N 2239, A 33,
// V 1; svdb 800: N 1846, S 30, V 6, F 1) and the headers.
func TestRealRecords(t *testing.T) {
	dir := dataDir(t)
	fsys := os.DirFS(dir)
	for _, tc := range []struct {
		rec       string
		leads     int
		n         int
		rate      float64
		beats     map[string]int
		atr       bool
		firstLead string
	}{
		{"physionet/mitdb/100", 2, 650000, 360, map[string]int{"N": 2239, "A": 33, "V": 1}, true, "MLII"},
		{"physionet/svdb/800", 2, 230400, 128, map[string]int{"N": 1846, "S": 30, "V": 6, "F": 1}, true, "ECG"},
		{"physionet/ptbdb/s0010_re", 15, 38400, 1000, nil, false, "i"},
		{"physionet/challenge2015/v102s", 4, 75000, 250, nil, false, "II"},
		{"physionet/challenge2015/a103l", 3, 82500, 250, nil, false, "II"},
		{"challenge12/cinc2021/E07500", 12, 5000, 500, nil, false, "I"},
		{"challenge12/cpsc2018/A0001", 12, 7500, 500, nil, false, "I"},
		{"challenge12/cpsc2021/data_101_6", 2, 22355, 200, nil, true, "I"},
	} {
		t.Run(tc.rec, func(t *testing.T) {
			rec, err := wfdb.ReadRecord(fsys, tc.rec)
			if err != nil {
				t.Fatal(err)
			}
			if len(rec.Samples) != tc.leads || rec.Len() != tc.n || rec.FrequencyHz != tc.rate || rec.Leads[0].Name != tc.firstLead {
				t.Errorf("got %d leads × %d at %g Hz, first %q; want %d × %d at %g, %q", len(rec.Samples), rec.Len(), rec.FrequencyHz, rec.Leads[0].Name, tc.leads, tc.n, tc.rate, tc.firstLead)
			}
			if !tc.atr {
				return
			}
			f, err := fsys.Open(tc.rec + ".atr")
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			anns, err := wfdb.ReadAnnotations(f)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]int{}
			for _, a := range anns {
				if wfdb.IsBeat(a.Code) {
					got[a.Symbol]++
				}
				if a.Sample > int64(rec.Len()) {
					t.Errorf("annotation at %d beyond record end %d", a.Sample, rec.Len())
				}
			}
			if tc.beats != nil {
				if d := cmp.Diff(tc.beats, got); d != "" {
					t.Errorf("beat counts (-want +got):\n%s", d)
				}
			}
			if strings.HasPrefix(tc.rec, "challenge12/cpsc2021") {
				eps := wfdb.Rhythms(anns, int64(rec.Len()))
				if len(eps) == 0 {
					t.Error("no rhythm episodes in a CPSC 2021 record")
				}
			}
		})
	}
}
