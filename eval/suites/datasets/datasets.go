// Package datasets is the "datasets" eval suite: a smoke gate that finds
// every data set under --data that eval/datasets can read, loads each file
// in full and reports record counts and load errors. It measures whether
// the data is present and well-formed, not any model.
package datasets

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/yizhu-health/yizhu/eval"
	loaders "github.com/yizhu-health/yizhu/eval/datasets"
	"github.com/yizhu-health/yizhu/eval/metrics"
)

// Name is the suite's registered name.
const Name = "datasets"

// maxListed bounds how many unread files and load errors the notes name.
const maxListed = 50

// Config configures the suite.
type Config struct {
	// Limits bound each file read (zero: the loaders' defaults).
	Limits loaders.Limits
	// Kinds are the formats to look for (nil: loaders.Catalog()).
	Kinds []loaders.Kind
}

// Suite is the datasets smoke suite.
type Suite struct {
	cfg Config
}

// New returns the suite.
func New(cfg Config) *Suite {
	if cfg.Kinds == nil {
		cfg.Kinds = loaders.Catalog()
	}
	return &Suite{cfg: cfg}
}

// Name implements eval.Suite.
func (s *Suite) Name() string { return Name }

var _ eval.Suite = (*Suite)(nil)

// ecgExts are the signal and annotation files of WFDB and challenge
// records; the suite counts records by their .hea headers.
var ecgExts = []string{".hea", ".dat", ".atr", ".mat", ".qrs", ".xws", ".xyz"}

// docFile reports whether a file is documentation rather than data.
func docFile(base string) bool {
	l := strings.ToLower(base)
	return strings.HasSuffix(l, ".md") || strings.HasPrefix(l, "license") || strings.HasPrefix(l, "readme")
}

// Run implements eval.Suite.
func (s *Suite) Run(ctx context.Context, env eval.Env) (*eval.Report, error) {
	log := env.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := eval.CheckDataDir(env.DataDir); err != nil {
		return nil, err
	}
	rel := func(p string) string {
		r, err := filepath.Rel(env.DataDir, p)
		if err != nil {
			return filepath.ToSlash(p)
		}
		return filepath.ToSlash(r)
	}
	rep := &eval.Report{
		Suite:   Name,
		Dataset: "every readable data set under --data",
		Metrics: map[string]float64{},
		PerRecord: &eval.Table{
			Title:   "Files read (records per file; load_error 1 = the file failed to parse)",
			Columns: []string{"records", "load_error"},
			Chart:   "records",
		},
		Config:       map[string]string{"data_dir": env.DataDir},
		LatencyLabel: "time to read and validate one file",
	}
	claimed := make(map[string]bool)
	var loadTimes []time.Duration
	var errorNotes []string
	var kindsFound []string
	for _, k := range s.cfg.Kinds {
		files, err := loaders.Find(env.DataDir, k)
		if err != nil {
			return nil, fmt.Errorf("datasets suite: %w", err)
		}
		if len(files) > 0 {
			kindsFound = append(kindsFound, k.Name)
		}
		for _, f := range files {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			claimed[f] = true
			start := env.Now()
			n, err := k.Count(f, s.cfg.Limits)
			loadTimes = append(loadTimes, env.Now().Sub(start))
			rep.Metrics["files_found"]++
			row := eval.Row{Key: rel(f), Values: []float64{float64(n), 0}}
			if err != nil {
				row.Values = []float64{0, 1}
				rep.Metrics["load_errors"]++
				msg := strings.ReplaceAll(err.Error(), env.DataDir+string(filepath.Separator), "")
				errorNotes = append(errorNotes, fmt.Sprintf("load error (%s): %s", k.Name, msg))
				log.Warn("dataset file failed to load", "kind", k.Name, "file", rel(f), "err", err)
			} else {
				rep.Metrics["files_loaded"]++
				rep.Metrics["records."+k.Name] += float64(n)
				rep.Metrics["records_total"] += float64(n)
				rep.N += n
			}
			rep.PerRecord.Rows = append(rep.PerRecord.Rows, row)
		}
	}
	for _, m := range []string{"files_found", "files_loaded", "load_errors", "records_total"} {
		rep.Metrics[m] += 0 // present even when zero, so gates can name them
	}
	rep.Metrics["kinds_found"] = float64(len(kindsFound))

	ecgRecords, unread, err := s.survey(env.DataDir, claimed)
	if err != nil {
		return nil, err
	}
	ecgTotal := 0
	for _, dir := range sortedKeys(ecgRecords) {
		ecgTotal += ecgRecords[dir]
	}
	rep.Metrics["ecg_records_found"] = float64(ecgTotal)
	rep.Metrics["files_unread"] = float64(len(unread))

	if len(loadTimes) > 0 {
		st := metrics.Latency(loadTimes)
		rep.Latency = &st
	}
	rep.Config["kinds"] = strings.Join(kindNames(s.cfg.Kinds), ",")
	rep.Config["limits"] = limitsString(s.cfg.Limits)

	rep.Notes = append(rep.Notes,
		fmt.Sprintf("Read %d of %d data files in full with the eval/datasets loaders (%d formats found: %s); %d records in total, %d files failed to load.",
			int(rep.Metrics["files_loaded"]), int(rep.Metrics["files_found"]), len(kindsFound), strings.Join(kindsFound, ", "),
			rep.N, int(rep.Metrics["load_errors"])),
		"This suite checks that the data is present and well-formed; it scores no model and no agent.")
	if ecgTotal > 0 {
		var parts []string
		for _, dir := range sortedKeys(ecgRecords) {
			parts = append(parts, fmt.Sprintf("%s %d", dir, ecgRecords[dir]))
		}
		rep.Notes = append(rep.Notes, fmt.Sprintf("ECG: %d records found by their .hea headers (%s); they are counted, not parsed — the WFDB readers (inference/ecg/wfdb) and the ECG suite read them.",
			ecgTotal, strings.Join(parts, ", ")))
	}
	rep.Notes = append(rep.Notes, listed("", errorNotes)...)
	if len(unread) > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("%d data files have no reader in eval/datasets and were not read (documentation not counted), by folder:", len(unread)))
		rep.Notes = append(rep.Notes, listed("not read: ", groupByDir(unread, rel))...)
	}
	return rep, nil
}

// survey walks root once, counting ECG records per folder and collecting
// the data files no kind claimed.
func (s *Suite) survey(root string, claimed map[string]bool) (map[string]int, []string, error) {
	ecg := make(map[string]int)
	var unread []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || claimed[p] || docFile(d.Name()) {
			return nil
		}
		ext := strings.ToLower(filepath.Ext(p))
		r, rerr := filepath.Rel(root, p)
		if rerr != nil {
			return rerr
		}
		if strings.HasPrefix(filepath.ToSlash(r), "ecg/") && slices.Contains(ecgExts, ext) {
			if ext == ".hea" {
				ecg[filepath.ToSlash(filepath.Dir(r))]++
			}
			return nil
		}
		unread = append(unread, p)
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("datasets suite: walk %s: %w", root, err)
	}
	return ecg, unread, nil
}

// groupByDir summarises files per folder: "dir/ (n files: a, b, …)".
func groupByDir(files []string, rel func(string) string) []string {
	byDir := make(map[string][]string)
	for _, f := range files {
		r := rel(f)
		dir, base := path.Split(r)
		byDir[dir] = append(byDir[dir], base)
	}
	var out []string
	for _, dir := range sortedKeys(byDir) {
		names := byDir[dir]
		shown := names[:min(3, len(names))]
		more := ""
		if len(names) > len(shown) {
			more = ", …"
		}
		out = append(out, fmt.Sprintf("%s (%d files: %s%s)", dir, len(names), strings.Join(shown, ", "), more))
	}
	return out
}

func listed(prefix string, items []string) []string {
	var out []string
	for i, it := range items {
		if i == maxListed {
			out = append(out, fmt.Sprintf("… and %d more", len(items)-maxListed))
			break
		}
		out = append(out, prefix+it)
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func kindNames(ks []loaders.Kind) []string {
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = k.Name
	}
	return out
}

func limitsString(l loaders.Limits) string {
	return fmt.Sprintf("max_file_bytes=%d max_line_bytes=%d max_records=%d max_field_bytes=%d (0 = default)",
		l.MaxFileBytes, l.MaxLineBytes, l.MaxRecords, l.MaxFieldBytes)
}
