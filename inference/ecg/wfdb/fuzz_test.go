package wfdb_test

import (
	"bytes"
	"errors"
	"math"
	"testing"
	"testing/fstest"

	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/inference/ecg/wfdb"
)

// checkErr asserts the reader's error contract: nil or a *clinic.Error.
func checkErr(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if _, ok := errors.AsType[*clinic.Error](err); !ok {
		t.Fatalf("error %v is not a *clinic.Error", err)
	}
}

func FuzzParseHeader(f *testing.F) {
	f.Add("100 2 360 650000\n100.dat 212 200 11 1024 995 -22131 0 MLII\n100.dat 212 200 11 1024 1011 20052 0 V5\n# 69 M\n")
	f.Add("E0 12 500 5000\nE0.mat 16x1+24 1000.0(0)/mV 16 0 -68 1250 0 I\n")
	f.Add("d 2 200 22355\nd.dat 16 30061.27(-161790)/mV 16 0 -10581 64292 0 I\n")
	f.Fuzz(func(t *testing.T, s string) {
		h, err := wfdb.ParseHeader(bytes.NewReader([]byte(s)))
		checkErr(t, err)
		if err != nil {
			return
		}
		// Property: an accepted header has a supported rate and valid gains.
		if h.FrequencyHz < wfdb.MinRateHz || h.FrequencyHz > wfdb.MaxRateHz {
			t.Fatalf("accepted rate %g", h.FrequencyHz)
		}
		for _, sig := range h.Signals {
			if !(sig.Gain > 0) || math.IsInf(sig.Gain, 0) {
				t.Fatalf("accepted gain %g", sig.Gain)
			}
		}
	})
}

func FuzzReadRecord(f *testing.F) {
	f.Add("r 1 250 4\nr.dat 16 200/mV 16 0 10 100 0 II\n", pack16([]int{10, 20, 30, 40}))
	f.Add("r 2 360 2\nr.dat 212 200 12 0 1 0 0 a\nr.dat 212 200 12 0 2 0 0 b\n", pack212([]int{1, 2, 3, 4}))
	f.Add("m 2 500 3\nr.dat 16x1+24 1000.0(0)/mV 16 0 1 9 0 I\nr.dat 16x1+24 1000.0(0)/mV 16 0 2 12 0 II\n", matFile(2, []int{1, 2, 3, 4, 5, 6}))
	f.Fuzz(func(t *testing.T, hea string, dat []byte) {
		fs := fstest.MapFS{"r.hea": {Data: []byte(hea)}, "r.dat": {Data: dat}, "r.mat": {Data: dat}}
		rec, err := wfdb.ReadRecord(fs, "r")
		checkErr(t, err)
		if err != nil {
			return
		}
		// Property: every lead has the same, non-zero length.
		for i, s := range rec.Samples {
			if len(s) != rec.Len() || len(s) == 0 {
				t.Fatalf("lead %d has %d samples, lead 0 has %d", i, len(s), rec.Len())
			}
		}
	})
}

func FuzzReadAnnotations(f *testing.F) {
	f.Add([]byte{0x0a, 0x70, 0x05, 0xfc, '(', 'A', 'F', 'I', 'B', 0, 0x05, 0x04, 0, 0})
	f.Add([]byte{0x00, 0xec, 0x01, 0x00, 0x00, 0x00, 0x03, 0x14})
	f.Fuzz(func(t *testing.T, b []byte) {
		anns, err := wfdb.ReadAnnotations(bytes.NewReader(b))
		checkErr(t, err)
		// Property: no annotation time is negative and every symbol
		// belongs to its code.
		for _, a := range anns {
			if a.Sample < 0 {
				t.Fatalf("negative sample %d", a.Sample)
			}
			if a.Symbol != wfdb.Symbol(a.Code) {
				t.Fatalf("symbol %q for code %d", a.Symbol, a.Code)
			}
		}
	})
}

func FuzzReadCSV(f *testing.F) {
	f.Add("time,I,II\n0,0.1,0.2\n0.002,-0.1,1e-1\n")
	f.Add("I\nNaN\n")
	f.Fuzz(func(t *testing.T, s string) {
		rec, err := wfdb.ReadCSV(bytes.NewReader([]byte(s)), "x", 250)
		checkErr(t, err)
		if err != nil {
			return
		}
		for _, lead := range rec.Samples {
			for _, v := range lead {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					t.Fatalf("accepted non-finite sample %v", v)
				}
			}
		}
	})
}
