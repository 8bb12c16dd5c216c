// Package rag is the "rag" eval suite: it ingests the starter guideline
// corpus (rag/corpus) into a fresh embedded SQLite store with the built-in
// offline embedder and measures retrieval on the corpus question set in
// three modes — builtin_vector (cosine similarity of the built-in
// embedder's vectors), lexical (BM25 over Chinese characters and bigrams
// and English words) and hybrid (both fused by reciprocal rank fusion) —
// reporting recall@5 and MRR@10 for each.
//
// # Data
//
// The corpus and its questions are part of the repository, so the suite
// needs nothing under --data. Two optional files extend it:
//
//	<data>/rag/questions.jsonl   more questions (one rag.Question per line:
//	                             {"id","lang","q","gold":[{"doc","heading"}]})
//	<data>/rag/docs/             more guideline documents (.md .txt .html .pdf),
//	                             ingested into the same collection; document
//	                             IDs are their paths without extension and may
//	                             not reuse a starter note's ID
//
// The built-in question set is always scored on the starter corpus alone.
// When questions.jsonl exists it is scored afterwards (on the corpus plus
// docs/, if present) and reported under the prefix "data.".
//
// # Metrics
//
// For each mode M in builtin_vector, lexical, hybrid: M.recall_at_5 (share
// of questions with a gold passage among the first 5 hits), M.mrr (mean
// reciprocal rank of the first gold passage within 10 hits, 0 when none),
// and M.zh.recall_at_5, M.zh.mrr, M.en.recall_at_5, M.en.mrr by question
// language. n_questions, n_documents and n_chunks count the set and the
// corpus. The per-record table has one row per gold document (recall@5 of
// each mode), the per-class table one row per language. Latency is one
// hybrid search, in process.
package rag

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/eval"
	"github.com/yizhu-health/yizhu/rag"
	"github.com/yizhu-health/yizhu/rag/corpus"
	"github.com/yizhu-health/yizhu/rag/embed"
	"github.com/yizhu-health/yizhu/store"
	"github.com/yizhu-health/yizhu/store/sqlite"
)

// Name is the suite's registered name.
const Name = "rag"

// The optional data under the data root.
var (
	QuestionsFile = filepath.Join("rag", "questions.jsonl")
	DocsDir       = filepath.Join("rag", "docs")
)

// Bounds.
const (
	maxQuestionsFile = 64 << 20
	maxMissNotes     = 20
)

// Config configures the suite.
type Config struct {
	// Questions replaces the built-in question set when non-nil.
	Questions []rag.Question
	// Corpus replaces the starter corpus when non-nil (a file system whose
	// supported files are the documents).
	Corpus fs.FS
}

// Suite is the rag eval suite.
type Suite struct {
	cfg Config
}

// New returns the suite.
func New(cfg Config) *Suite { return &Suite{cfg: cfg} }

// Name implements eval.Suite.
func (s *Suite) Name() string { return Name }

var _ eval.Suite = (*Suite)(nil)

// modeName is the metric prefix of each mode: the vector mode is always
// the built-in embedder's, the only one an offline, deterministic eval
// can use.
var modeName = map[rag.Mode]string{rag.ModeVector: "builtin_vector", rag.ModeLexical: "lexical", rag.ModeHybrid: "hybrid"}

// Run implements eval.Suite.
func (s *Suite) Run(ctx context.Context, env eval.Env) (*eval.Report, error) {
	if err := eval.CheckDataDir(env.DataDir); err != nil {
		return nil, err
	}
	qs := s.cfg.Questions
	qsName := "built-in (rag/corpus/questions.jsonl)"
	if qs == nil {
		var err error
		if qs, err = rag.LoadQuestions(bytes.NewReader(corpus.Questions())); err != nil {
			return nil, fmt.Errorf("rag suite: built-in questions: %w", err)
		}
	} else {
		qsName = "from Config.Questions"
	}
	if len(qs) == 0 {
		return nil, clinic.Errorf(clinic.CodeInvalid, "rag suite: the question set is empty")
	}
	extra, err := readQuestions(filepath.Join(env.DataDir, QuestionsFile))
	if err != nil {
		return nil, err
	}
	docsFS := s.cfg.Corpus
	corpusName := "starter corpus (rag/corpus/docs)"
	if docsFS == nil {
		docsFS = corpus.FS()
	} else {
		corpusName = "from Config.Corpus"
	}

	dir, err := os.MkdirTemp("", "yizhu-rag-eval-*")
	if err != nil {
		return nil, fmt.Errorf("rag suite: %w", err)
	}
	defer os.RemoveAll(dir)
	st, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(dir, "rag.db"), Logger: env.Logger})
	if err != nil {
		return nil, fmt.Errorf("rag suite: open the embedded store: %w", err)
	}
	defer st.Close()
	emb, err := embed.New(embed.Config{})
	if err != nil {
		return nil, fmt.Errorf("rag suite: %w", err)
	}
	r, err := rag.New(rag.Config{Store: st, Embedder: emb, Logger: env.Logger})
	if err != nil {
		return nil, fmt.Errorf("rag suite: %w", err)
	}
	ing, err := rag.NewIngester(rag.IngesterConfig{Store: st, Embedder: emb, Retriever: r, Logger: env.Logger})
	if err != nil {
		return nil, fmt.Errorf("rag suite: %w", err)
	}
	docs, chunks, err := ingestAll(ctx, ing, docsFS, "corpus")
	if err != nil {
		return nil, err
	}

	rep := &eval.Report{
		Suite:   Name,
		Dataset: "rag/corpus (starter guideline notes and their question set)",
		N:       len(qs),
		Metrics: map[string]float64{},
		Config: map[string]string{
			"data_dir":   env.DataDir,
			"store":      "embedded SQLite (exact cosine scan), fresh per run",
			"embedder":   emb.Name(),
			"chunking":   "rag/chunk defaults",
			"collection": rag.DefaultCollection,
			"corpus":     corpusName,
			"questions":  qsName,
		},
	}
	main, err := rag.Evaluate(ctx, r, rag.DefaultCollection, qs)
	if err != nil {
		return nil, fmt.Errorf("rag suite: %w", err)
	}
	addScores(rep.Metrics, "", main)
	rep.Metrics["n_questions"] = float64(len(qs))
	rep.Metrics["n_documents"] = float64(docs)
	rep.Metrics["n_chunks"] = float64(chunks)
	rep.PerRecord = perDocument(qs, main)
	rep.PerClass = perLanguage(main)
	lat, err := timeSearches(ctx, env, r, qs)
	if err != nil {
		return nil, err
	}
	rep.AddLatencies("one hybrid search (k = 10) over the embedded store, in process", lat)
	langs := map[string]int{}
	for _, q := range qs {
		langs[q.Lang]++
	}
	rep.Notes = append(rep.Notes,
		fmt.Sprintf("%d questions (zh %d, en %d) over %d documents cut into %d chunks; gold answers are (document, heading) pairs, so a hit counts when it comes from the gold document under the gold heading.",
			len(qs), langs["zh"], langs["en"], docs, chunks),
		"Modes: builtin_vector = cosine similarity of the built-in offline embedder's vectors (no remote model); lexical = BM25 over characters/bigrams (Chinese) and words (English); hybrid = reciprocal rank fusion (k = 60) of the two. Queries are expanded with the bilingual glossary (rag/glossary.tsv) in every mode.",
		"recall@5 = share of questions with a gold passage in the first 5 hits; MRR = mean of 1/rank of the first gold passage in the first 10 hits (0 when none).")
	for _, sc := range main.Scores {
		addMisses(rep, "", sc, qs)
	}

	if extra != nil {
		if err := s.runExtra(ctx, env, st, ing, r, extra, rep); err != nil {
			return nil, err
		}
	} else {
		rep.Notes = append(rep.Notes, fmt.Sprintf("No %s under the data directory: only the built-in question set was scored.", filepath.ToSlash(QuestionsFile)))
	}
	return rep, nil
}

// runExtra ingests <data>/rag/docs (when present) and scores the data
// directory's questions under the prefix "data.".
func (s *Suite) runExtra(ctx context.Context, env eval.Env, st store.Chunks, ing *rag.Ingester, r *rag.Retriever, qs []rag.Question, rep *eval.Report) error {
	docsDir := filepath.Join(env.DataDir, DocsDir)
	extraDocs := 0
	if fi, err := os.Stat(docsDir); err == nil && fi.IsDir() {
		before, err := docIDs(ctx, st)
		if err != nil {
			return err
		}
		fsys := os.DirFS(docsDir)
		var clash []string
		err = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			if id := strings.TrimSuffix(p, filepath.Ext(p)); before[id] {
				clash = append(clash, p)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("rag suite: walk %s: %w", docsDir, err)
		}
		if len(clash) > 0 {
			return clinic.NewError(clinic.CodeInvalid, "data",
				fmt.Sprintf("rag suite: %s would replace starter notes (%s); rename them", docsDir, strings.Join(clash, ", ")),
				fmt.Sprintf("RAG 评测：%s 中的文件会覆盖内置文档（%s），请改名", docsDir, strings.Join(clash, "、")))
		}
		if extraDocs, _, err = ingestAll(ctx, ing, fsys, docsDir); err != nil {
			return err
		}
		rep.Config["data_docs"] = filepath.ToSlash(DocsDir)
	}
	res, err := rag.Evaluate(ctx, r, rag.DefaultCollection, qs)
	if err != nil {
		return fmt.Errorf("rag suite: %s: %w", QuestionsFile, err)
	}
	addScores(rep.Metrics, "data.", res)
	rep.Metrics["data.n_questions"] = float64(len(qs))
	rep.Metrics["data.n_documents"] = float64(extraDocs)
	rep.Config["data_questions"] = filepath.ToSlash(QuestionsFile)
	rep.N += len(qs)
	rep.Notes = append(rep.Notes, fmt.Sprintf("Also scored %d questions from %s (metrics prefixed data.) on the starter corpus plus %d documents from %s.",
		len(qs), filepath.ToSlash(QuestionsFile), extraDocs, filepath.ToSlash(DocsDir)))
	for _, sc := range res.Scores {
		addMisses(rep, "data.", sc, qs)
	}
	return nil
}

// docIDs returns the IDs of the collection's stored documents.
func docIDs(ctx context.Context, st store.Chunks) (map[string]bool, error) {
	docs, err := st.Documents(ctx, rag.DefaultCollection)
	if err != nil {
		return nil, fmt.Errorf("rag suite: %w", err)
	}
	ids := make(map[string]bool, len(docs))
	for _, d := range docs {
		ids[d.ID] = true
	}
	return ids, nil
}

// readQuestions reads an optional question file: nil when it does not
// exist, an error when it cannot be read or parsed.
func readQuestions(path string) ([]rag.Question, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, clinic.Wrap(err, clinic.CodeInvalid, "rag suite: cannot open "+path, "RAG 评测：无法打开 "+path)
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > maxQuestionsFile {
		return nil, clinic.Errorf(clinic.CodeTooLarge, "rag suite: %s is larger than %d bytes", path, maxQuestionsFile)
	}
	qs, err := rag.LoadQuestions(f)
	if err != nil {
		return nil, fmt.Errorf("rag suite: %s: %w", path, err)
	}
	if len(qs) == 0 {
		return nil, clinic.Errorf(clinic.CodeInvalid, "rag suite: %s holds no questions", path)
	}
	return qs, nil
}

// ingestAll ingests every supported file of fsys and fails on the first
// per-file error; it returns the documents and chunks ingested.
func ingestAll(ctx context.Context, ing *rag.Ingester, fsys fs.FS, what string) (docs, chunks int, err error) {
	res, err := ing.IngestFS(ctx, fsys, rag.DefaultCollection)
	if err != nil {
		return 0, 0, fmt.Errorf("rag suite: ingest %s: %w", what, err)
	}
	for _, r := range res {
		if r.Err != nil {
			return 0, 0, fmt.Errorf("rag suite: ingest %s: %s: %w", what, r.File, r.Err)
		}
		chunks += r.Chunks
	}
	if len(res) == 0 {
		return 0, 0, clinic.Errorf(clinic.CodeInvalid, "rag suite: %s holds no documents", what)
	}
	return len(res), chunks, nil
}

// addScores sets prefix+mode.recall_at_5, .mrr and the per-language
// scores.
func addScores(m map[string]float64, prefix string, rep rag.EvalReport) {
	for _, sc := range rep.Scores {
		p := prefix + modeName[sc.Mode] + "."
		m[p+"recall_at_5"] = sc.RecallAt5
		m[p+"mrr"] = sc.MRR
		for lang, ls := range sc.ByLang {
			if lang == "" {
				lang = "unknown"
			}
			m[p+lang+".recall_at_5"] = ls.RecallAt5
			m[p+lang+".mrr"] = ls.MRR
		}
	}
}

// perDocument is recall@5 per gold document (a question counts for each
// document its gold names).
func perDocument(qs []rag.Question, rep rag.EvalReport) *eval.Table {
	t := &eval.Table{Title: "Recall@5 per gold document", Chart: "hybrid", Columns: []string{"questions"}}
	missed := make([]map[string]bool, len(rep.Scores))
	for i, sc := range rep.Scores {
		t.Columns = append(t.Columns, modeName[sc.Mode])
		missed[i] = make(map[string]bool, len(sc.Misses))
		for _, id := range sc.Misses {
			missed[i][id] = true
		}
	}
	type acc struct {
		n    int
		hits []int
	}
	byDoc := map[string]*acc{}
	for _, q := range qs {
		var docs []string
		for _, g := range q.Gold {
			if !slices.Contains(docs, g.Doc) {
				docs = append(docs, g.Doc)
			}
		}
		for _, d := range docs {
			a := byDoc[d]
			if a == nil {
				a = &acc{hits: make([]int, len(rep.Scores))}
				byDoc[d] = a
			}
			a.n++
			for i := range rep.Scores {
				if !missed[i][q.ID] {
					a.hits[i]++
				}
			}
		}
	}
	for d, a := range byDoc {
		row := eval.Row{Key: d, Values: []float64{float64(a.n)}}
		for _, h := range a.hits {
			row.Values = append(row.Values, float64(h)/float64(a.n))
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// perLanguage is recall@5 and MRR of each mode per question language.
func perLanguage(rep rag.EvalReport) *eval.Table {
	t := &eval.Table{Title: "Per question language", Columns: []string{"questions"}}
	langs := map[string]bool{}
	for _, sc := range rep.Scores {
		n := modeName[sc.Mode]
		t.Columns = append(t.Columns, n+"_recall_at_5", n+"_mrr")
		for l := range sc.ByLang {
			langs[l] = true
		}
	}
	t.Chart = "hybrid_recall_at_5"
	for _, l := range slices.Sorted(func(yield func(string) bool) {
		for l := range langs {
			if !yield(l) {
				return
			}
		}
	}) {
		row := eval.Row{Key: l}
		for i, sc := range rep.Scores {
			ls := sc.ByLang[l]
			if i == 0 {
				row.Values = append(row.Values, float64(ls.Questions))
			}
			row.Values = append(row.Values, ls.RecallAt5, ls.MRR)
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// addMisses names up to maxMissNotes missed questions of one mode.
func addMisses(rep *eval.Report, prefix string, sc rag.ModeScore, qs []rag.Question) {
	if len(sc.Misses) == 0 {
		return
	}
	text := map[string]string{}
	for _, q := range qs {
		text[q.ID] = q.Question
	}
	var parts []string
	for i, id := range sc.Misses {
		if i == maxMissNotes {
			parts = append(parts, "… "+strconv.Itoa(len(sc.Misses)-maxMissNotes)+" more")
			break
		}
		parts = append(parts, fmt.Sprintf("%s %q", id, text[id]))
	}
	rep.Notes = append(rep.Notes, fmt.Sprintf("%s%s misses (%d): %s", prefix, modeName[sc.Mode], len(sc.Misses), strings.Join(parts, "; ")))
}

// timeSearches runs each question once in hybrid mode, timing it with
// env's clock.
func timeSearches(ctx context.Context, env eval.Env, r *rag.Retriever, qs []rag.Question) ([]time.Duration, error) {
	lat := make([]time.Duration, 0, len(qs))
	for _, q := range qs {
		start := env.Now()
		if _, err := r.Search(ctx, rag.Query{Text: q.Question, Collection: rag.DefaultCollection, K: 10}); err != nil {
			return nil, fmt.Errorf("rag suite: search %s: %w", q.ID, err)
		}
		lat = append(lat, env.Now().Sub(start))
	}
	return lat, nil
}
