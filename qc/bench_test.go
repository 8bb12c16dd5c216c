package qc_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"testing"

	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/qc"
	"github.com/yizhu-health/yizhu/qc/inject"
)

// benchPassages are written for the benchmarks (typical inpatient length,
// about 400 characters each).
var benchPassages = []inject.Passage{
	{ID: "b1", Text: "患者5月前无意中发现左侧乳房肿块，约2CM大小，无疼痛，于我院行穿刺活检，病理示：浸润性导管癌。完善检查后行左乳腺癌改良根治术，术程顺利，术后恢复良好。术后病理示：浸润性导管癌II级，腋窝淋巴结3/15见癌转移，免疫组化：ER（+），PR（+），HER-2（-）。术后予多西他赛联合环磷酰胺方案化疗4周期，过程顺利，无明显不良反应，期间复查血常规示白细胞轻度下降，予升白治疗后恢复。院外期间患者一般情况好，无恶心，无腹痛。现为行下一周期治疗再次入院，近期精神可，饮食睡眠可，大小便正常，体重无明显变化。",
		Diseases: []string{"乳腺癌", "浸润性导管癌"}, Drugs: []string{"多西他赛", "环磷酰胺"}, Operations: []string{"左乳腺癌改良根治术"}},
	{ID: "b2", Text: "患者2年前体检发现前列腺特异性抗原轻度升高，未予重视。3月前出现大便次数增多，每日4至5次，伴黏液血便，于我院行肠镜检查，见距肛门8CM处菜花样肿物，占肠腔约二分之一周，活检病理示：直肠腺癌。遂在全麻下行直肠癌根治术，术后病理示中分化腺癌，侵及浆膜层，淋巴结未见转移，切缘阴性。术后予奥沙利铂联合卡培他滨方案辅助化疗3周期，耐受可，偶有手足麻木。今为复查及继续治疗入院，无恶心，无腹胀，睡眠可，小便正常，体重无明显下降。",
		Diseases: []string{"直肠癌", "直肠腺癌"}, Drugs: []string{"奥沙利铂", "卡培他滨"}, Operations: []string{"直肠癌根治术"}},
}

func benchRecords(b *testing.B) (*qc.Engine, []qc.Record) {
	b.Helper()
	l := mustICD(b)
	e := mustEngine(b, qc.Config{ICD: l})
	g, err := inject.New(inject.Config{Rules: e.Rules(), ICD: l, Seed: 3})
	if err != nil {
		b.Fatal(err)
	}
	var recs []qc.Record
	for _, p := range benchPassages {
		for _, t := range []clinic.NoteType{clinic.NoteAdmission, clinic.NoteFirstCourse, clinic.NoteProgress, clinic.NoteDischarge, clinic.NoteOperation} {
			r, ok := g.Clean(p, t, fmt.Sprintf("%s/%s", p.ID, t))
			if !ok {
				b.Fatalf("no %s record from %s", t, p.ID)
			}
			recs = append(recs, r)
		}
	}
	// Half of the records carry one defect each, as in a real batch.
	for i, r := range e.Rules() {
		if i%9 == 0 {
			if c, ok := g.Inject(recs[i%len(recs)], r); ok {
				recs = append(recs, c.Defective)
			}
		}
	}
	return e, recs
}

// BenchmarkScan measures rule scanning of inpatient records on one
// goroutine (records/s per core).
func BenchmarkScan(b *testing.B) {
	e, recs := benchRecords(b)
	ctx := b.Context()
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		if _, err := e.Scan(ctx, &recs[n%len(recs)]); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkStream100k reads, decodes and scans 100,000 generated JSONL
// records from a pipe, as `yizhu qc scan -` does, and reports the peak
// heap in use (sampled every 1,000 records) to show memory stays bounded.
func BenchmarkStream100k(b *testing.B) {
	const total = 100_000
	e, recs := benchRecords(b)
	lines := make([][]byte, len(recs))
	for i := range recs {
		bs, err := json.Marshal(recs[i])
		if err != nil {
			b.Fatal(err)
		}
		lines[i] = bs
	}
	ctx := b.Context()
	var peak uint64
	for b.Loop() {
		pr, pw := io.Pipe()
		go func() {
			for i := range total {
				l := lines[i%len(lines)]
				if _, err := pw.Write(l); err != nil {
					return
				}
				if _, err := pw.Write([]byte{'\n'}); err != nil {
					return
				}
			}
			pw.Close()
		}()
		rd := qc.NewReader(pr, "-", 0)
		enc := json.NewEncoder(io.Discard)
		n := 0
		for {
			rec, err := rd.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			res, err := e.Scan(ctx, rec)
			if err != nil {
				b.Fatal(err)
			}
			if err := enc.Encode(res); err != nil {
				b.Fatal(err)
			}
			n++
			if n%1000 == 0 {
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapInuse)
			}
		}
		if n != total {
			b.Fatalf("scanned %d records, want %d", n, total)
		}
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak_heap_MiB")
	b.ReportMetric(float64(total*b.N)/b.Elapsed().Seconds(), "records/s")
}
