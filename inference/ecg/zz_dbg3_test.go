package ecg

import (
	"fmt"
	"os"
	"testing"

	"github.com/yizhu-health/yizhu/inference/ecg/wfdb"
)

func TestZZDbgST(t *testing.T) {
	if os.Getenv("ZZPTB") == "" {
		t.Skip()
	}
	fsys := os.DirFS("/work/shared/data/ecg/physionet/ptbdb")
	w, err := wfdb.ReadRecord(fsys, "s0010_re")
	if err != nil {
		t.Fatal(err)
	}
	rec, _ := FromWFDB(w)
	cfg := Config{RateHz: rec.RateHz, Sex: rec.Sex, AgeYears: rec.AgeYears}
	for _, l := range rec.Leads {
		cfg.Leads = append(cfg.Leads, l.Name)
	}
	s, _ := New(cfg)
	step := int(rec.RateHz)
	chunk := make([][]float32, len(rec.Leads))
	for off := 0; off < rec.Len(); off += step {
		end := min(off+step, rec.Len())
		for i, l := range rec.Leads {
			chunk[i] = l.Samples[off:end]
		}
		s.Process(nil, chunk)
	}
	s.Finish(nil)
	m := s.meas
	fmt.Printf("HR %v QRS %v PR %v QT %v beats %d sex %v age %d\n", m.HRbpm, m.QRSms, m.PRms, m.QTms, m.Beats, rec.Sex, rec.AgeYears)
	for _, x := range m.ST {
		fmt.Printf("%-4s J %+.3f ST%d %+.3f\n", x.Lead, x.JmV, x.AtMs, x.STmV)
	}
	sv := s.tmpl.sv[:s.tmpl.length]
	clear(sv)
	for l := range s.nlead {
		d := s.tmpl.data[l]
		for k := 1; k < s.tmpl.length; k++ {
			v := d[k] - d[k-1]
			if v < 0 {
				v = -v
			}
			sv[k] += v
		}
	}
	half := int(0.15 * s.fs)
	lo := s.tmpl.pre - half
	on, off, _ := qrsBounds(sv[lo:s.tmpl.pre+half+1], half, s.fs)
	on += lo
	off += lo
	fmt.Println("on", on, "off", off, "pre", s.tmpl.pre)
	for l := range s.nlead {
		d := s.tmpl.data[l]
		fmt.Printf("%-4s", s.cfg.Leads[l])
		for k := on - 40; k < off+120; k += 10 {
			fmt.Printf(" %+.2f", d[k]-d[on-10])
		}
		fmt.Println()
	}
	var ser [][]float32
	for l := range s.nlead {
		ser = append(ser, s.tmpl.data[l])
	}
	zzPlot("/tmp/zztmpl.png", ser[:6], []int{s.tmpl.pre, on, off, off+80}, 0.01)
	zzPlot("/tmp/zztmpl2.png", ser[6:], []int{s.tmpl.pre, on, off, off+80}, 0.01)
}

func TestZZDbgST2(t *testing.T) {
	if os.Getenv("ZZPTB") == "" {
		t.Skip()
	}
	fsys := os.DirFS("/work/shared/data/ecg/physionet/ptbdb")
	w, _ := wfdb.ReadRecord(fsys, "s0010_re")
	rec, _ := FromWFDB(w)
	rep, _ := Analyze(t.Context(), rec)
	// per-beat: align on the largest |slope| in lead v1..? use the template offsets relative to max abs of III in ±60ms
	for _, li := range []int{1, 2, 5} {
		x := rec.Leads[li].Samples
		var vals []float64
		for _, b := range rep.Beats {
			r := int(b.Sample)
			if r < 400 || r+300 > len(x) {
				continue
			}
			var base float64
			for k := r - 69; k < r-49; k++ {
				base += float64(x[k])
			}
			base /= 20
			vals = append(vals, float64(x[r+82])-base)
		}
		fmt.Printf("%s per-beat J: ", rec.Leads[li].Name)
		for i, v := range vals {
			if i%1 == 0 {
				fmt.Printf("%+.2f ", v)
			}
		}
		fmt.Println()
	}
}
