package ecg

import (
	"image"
	"image/color"
	"image/png"
	"os"
	"strconv"
	"testing"

	"github.com/yizhu-health/yizhu/inference/ecg/wfdb"
)

// plot draws series (each a []float32) stacked, with vertical marks.
func zzPlot(path string, series [][]float32, marks []int, mvPerPx float32) {
	const W, H = 1600, 300
	img := image.NewRGBA(image.Rect(0, 0, W, H*len(series)))
	for y := 0; y < H*len(series); y++ {
		for x := 0; x < W; x++ {
			img.Set(x, y, color.White)
		}
	}
	for si, s := range series {
		n := len(s)
		var mean float32
		for _, v := range s {
			mean += v
		}
		mean /= float32(n)
		for _, m := range marks {
			x := m * W / n
			for y := si * H; y < (si+1)*H; y++ {
				img.Set(x, y, color.RGBA{255, 180, 180, 255})
			}
		}
		// grid 0.1 mV
		for g := -20; g <= 20; g++ {
			y := si*H + H/2 - int(float32(g)*0.1/mvPerPx)
			if y > si*H && y < (si+1)*H {
				for x := 0; x < W; x += 4 {
					img.Set(x, y, color.RGBA{200, 200, 255, 255})
				}
			}
		}
		for k := 0; k < n; k++ {
			x := k * W / n
			y := si*H + H/2 - int((s[k]-mean)/mvPerPx)
			if y > si*H && y < (si+1)*H {
				img.Set(x, y, color.Black)
				img.Set(x, y+1, color.Black)
			}
		}
	}
	f, _ := os.Create(path)
	png.Encode(f, img)
	f.Close()
}

func TestZZPlotRaw(t *testing.T) {
	p := os.Getenv("ZZPLOT")
	if p == "" {
		t.Skip()
	}
	dir, name := os.Getenv("ZZDIR"), p
	w, err := wfdb.ReadRecord(os.DirFS(dir), name)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := strconv.ParseFloat(os.Getenv("ZZA"), 64)
	b, _ := strconv.ParseFloat(os.Getenv("ZZB"), 64)
	i0, i1 := int(a*w.FrequencyHz), int(b*w.FrequencyHz)
	var ser [][]float32
	for _, s := range w.Samples {
		ser = append(ser, s[i0:i1])
	}
	zzPlot("/tmp/zzraw.png", ser, nil, 0.01)
}
