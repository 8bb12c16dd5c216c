package lexical_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/yizhu-health/yizhu/rag/lexical"
)

// synthetic returns n passages of about 120 characters drawn from a
// vocabulary of clinical words, with a seeded RNG.
func synthetic(n int) []string {
	words := strings.Fields(`入院记录 首次病程 出院记录 会诊 抢救 手术 主诉 现病史 既往史 体格检查 诊断 胸痛 心电图
ST段 抬高 压低 危急值 心室颤动 房颤 血压 血糖 随访 转诊 肺结节 磨玻璃 实性 分诊 急诊 红区 黄区 绿区
患者 医师 签名 时限 小时 分钟 完成 记录 内容 包括 应当 规范 标准 指南 共识 评估 治疗 检查 结果 STEMI
troponin lead V2 V3 QTc mmHg mmol nodule follow-up category`)
	rng := rand.New(rand.NewPCG(7, 11))
	out := make([]string, n)
	var b strings.Builder
	for i := range out {
		b.Reset()
		for b.Len() < 300 {
			b.WriteString(words[rng.IntN(len(words))])
			if rng.IntN(6) == 0 {
				b.WriteString("。")
			}
		}
		out[i] = b.String()
	}
	return out
}

// BenchmarkSearch100k measures BM25 query latency over 100,000 synthetic
// passages and reports p50/p95 per query.
func BenchmarkSearch100k(b *testing.B) {
	texts := synthetic(100_000)
	x := lexical.New(lexical.Config{})
	for i := 0; i < len(texts); i += 10 {
		es := make([]lexical.Entry, 10)
		for j := range es {
			es[j] = lexical.Entry{ID: fmt.Sprint(i + j), Text: texts[i+j]}
		}
		x.Replace("bench", fmt.Sprint(i/10), es)
	}
	queries := []string{"入院记录完成时限", "胸痛 心电图 ST段抬高", "QTc critical value", "肺结节 随访 磨玻璃", "血压 转诊 随访"}
	var lat []time.Duration
	i := 0
	for b.Loop() {
		start := time.Now()
		x.Search(lexical.Query{Text: queries[i%len(queries)], K: 50})
		lat = append(lat, time.Since(start))
		i++
	}
	reportPercentiles(b, lat)
}

func reportPercentiles(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	p := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(p(0.50), "p50-ms")
	b.ReportMetric(p(0.95), "p95-ms")
}
