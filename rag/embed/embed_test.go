package embed_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/rag/embed"
)

func mustNew(t testing.TB, dim int) *embed.Builtin {
	t.Helper()
	e, err := embed.New(embed.Config{Dim: dim})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func cosine(a, b []float32) float64 {
	var d float64
	for i := range a {
		d += float64(a[i]) * float64(b[i])
	}
	return d
}

func norm(v []float32) float64 { return math.Sqrt(cosine(v, v)) }

func TestNew(t *testing.T) {
	tests := []struct {
		dim     int
		wantDim int
		ok      bool
	}{
		{0, 512, true}, {16, 16, true}, {1024, 1024, true}, {8, 0, false}, {100000, 0, false}, {-1, 0, false},
	}
	for _, tc := range tests {
		e, err := embed.New(embed.Config{Dim: tc.dim})
		if (err == nil) != tc.ok {
			t.Fatalf("New(%d) err = %v, want ok=%t", tc.dim, err, tc.ok)
		}
		if err != nil {
			if clinic.ErrorCode(err) != clinic.CodeInvalid {
				t.Errorf("New(%d) code = %s", tc.dim, clinic.ErrorCode(err))
			}
			continue
		}
		if e.Dim() != tc.wantDim || !strings.Contains(e.Name(), "builtin") {
			t.Errorf("New(%d) = dim %d name %q", tc.dim, e.Dim(), e.Name())
		}
	}
}

func TestVectors(t *testing.T) {
	e := mustNew(t, 512)
	ctx := t.Context()
	docs := []string{
		"入院记录应当于患者入院后24小时内完成",
		"首次病程记录应当在患者入院8小时内完成",
		"STEMI: ST elevation in leads V2-V3 of 2 mm in men",
		"",
	}
	vs, err := e.EmbedDocuments(ctx, docs)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range vs[:3] {
		if len(v) != 512 || math.Abs(norm(v)-1) > 1e-5 {
			t.Errorf("vector %d: len %d norm %f", i, len(v), norm(v))
		}
	}
	if norm(vs[3]) != 0 {
		t.Errorf("empty text has norm %f, want 0", norm(vs[3]))
	}
	q, err := e.EmbedQuery(ctx, "入院记录多久完成")
	if err != nil {
		t.Fatal(err)
	}
	if !(cosine(q, vs[0]) > cosine(q, vs[1]) && cosine(q, vs[1]) > cosine(q, vs[2])) {
		t.Errorf("similarities %f %f %f not in the expected order", cosine(q, vs[0]), cosine(q, vs[1]), cosine(q, vs[2]))
	}
	// Full-width and case folding.
	a, _ := e.EmbedQuery(ctx, "ＳＴＥＭＩ ｖ２")
	b, _ := e.EmbedQuery(ctx, "stemi V2")
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("width/case folding differs (-full +ascii):\n%s", diff)
	}
	// Deterministic across instances.
	again, _ := mustNew(t, 512).EmbedDocuments(ctx, docs)
	if diff := cmp.Diff(vs, again); diff != "" {
		t.Errorf("not deterministic (-first +second):\n%s", diff)
	}
}

func TestLimits(t *testing.T) {
	e := mustNew(t, 64)
	_, err := e.EmbedDocuments(t.Context(), make([]string, embed.MaxTexts+1))
	if clinic.ErrorCode(err) != clinic.CodeTooLarge {
		t.Errorf("too many texts: err = %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := e.EmbedDocuments(ctx, []string{"x"}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err = %v", err)
	}
	if _, err := e.EmbedQuery(ctx, "x"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled query: err = %v", err)
	}
	long := strings.Repeat("字", embed.MaxTextBytes)
	if v := e.Vector(long); math.Abs(norm(v)-1) > 1e-5 {
		t.Errorf("long text norm %f", norm(v))
	}
}

func FuzzVector(f *testing.F) {
	f.Add("入院记录 24小时 QTc")
	f.Add("\xff\xfe bad utf8")
	f.Fuzz(func(t *testing.T, s string) {
		v := mustNew(t, 32).Vector(s)
		n := norm(v)
		if len(v) != 32 || !(n == 0 || math.Abs(n-1) < 1e-5) {
			t.Fatalf("len %d norm %f", len(v), n)
		}
	})
}

func BenchmarkEmbed(b *testing.B) {
	e := mustNew(b, 512)
	text := strings.Repeat("入院记录应当于患者入院后24小时内完成。STEMI criteria. ", 8)
	for b.Loop() {
		e.Vector(text)
	}
	b.ReportMetric(float64(len([]rune(text)))*float64(b.N)/b.Elapsed().Seconds(), "runes/s")
}
