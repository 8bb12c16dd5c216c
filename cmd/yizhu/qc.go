package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/qc"
	"github.com/yizhu-health/yizhu/qc/icd"
)

const qcUsage = `usage: yizhu qc scan DIR|FILE|- [--rules override.yaml] [--data DIR] [--workers N]

Scans Yizhu QC JSONL records (one per line; a DIR is searched for *.jsonl)
against the default rule set plus an optional hospital override file, and
writes one JSON result per record to stdout: id, type, score, grade, veto,
findings. A line that cannot be read gives {"file","line","error"} and the
scan goes on; the exit status is then non-zero.
`

// qcBatch is how many records are held at once: memory stays bounded
// however long the input is.
const qcBatch = 256

// qcResult is one output line.
type qcResult struct {
	*qc.Result
	File  string `json:"file,omitempty"`
	Line  int    `json:"line,omitempty"`
	Error string `json:"error,omitempty"`
}

// cmdQC runs `yizhu qc scan`.
func cmdQC(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "scan" {
		fmt.Fprint(stderr, qcUsage)
		return errors.New("qc: want the scan subcommand")
	}
	fset := flag.NewFlagSet("qc scan", flag.ContinueOnError)
	fset.SetOutput(stderr)
	fset.Usage = func() { fmt.Fprint(stderr, qcUsage); fset.PrintDefaults() }
	rulesPath := fset.String("rules", "", "hospital override YAML: disable, re-weight or add rules")
	dataDir := fset.String("data", "../shared/data", "data directory holding "+icd.DefaultPath+" (the ICD-10 list)")
	workers := fset.Int("workers", runtime.GOMAXPROCS(0), "records scanned in parallel")
	maxLine := fset.Int("max-line", qc.DefaultMaxLineBytes, "longest accepted input line in bytes")
	// Accept the input before or after the flags.
	var inputs []string
	rest := args[1:]
	for len(rest) > 0 {
		if err := fset.Parse(rest); err != nil {
			return err
		}
		rest = fset.Args()
		if len(rest) > 0 {
			inputs = append(inputs, rest[0])
			rest = rest[1:]
		}
	}
	if len(inputs) != 1 {
		fmt.Fprint(stderr, qcUsage)
		return errors.New("qc scan: give exactly one DIR, FILE or -")
	}
	if *workers < 1 || *workers > 256 {
		return errors.New("qc scan: --workers must be within 1..256")
	}
	cfg := qc.Config{}
	icdPath := filepath.Join(*dataDir, filepath.FromSlash(icd.DefaultPath))
	if _, err := os.Stat(icdPath); err == nil {
		l, err := icd.Open(icdPath)
		if err != nil {
			return fmt.Errorf("qc scan: %w", err)
		}
		cfg.ICD = l
	} else {
		fmt.Fprintf(stderr, "qc scan: no ICD-10 list at %s; diagnosis coding rules are skipped\n", icdPath)
	}
	engine, err := qc.NewFromFiles(cfg, *rulesPath)
	if err != nil {
		return fmt.Errorf("qc scan: %w", err)
	}
	files, err := qcInputs(inputs[0])
	if err != nil {
		return fmt.Errorf("qc scan: %w", err)
	}
	out := bufio.NewWriterSize(stdout, 64<<10)
	s := &qcScanner{engine: engine, workers: *workers, enc: json.NewEncoder(out), grades: map[qc.Grade]int{}}
	s.enc.SetEscapeHTML(false)
	for _, f := range files {
		if err := s.scanFile(ctx, f, stdin, *maxLine); err != nil {
			out.Flush()
			return fmt.Errorf("qc scan: %w", err)
		}
	}
	if err := out.Flush(); err != nil {
		return fmt.Errorf("qc scan: write: %w", err)
	}
	fmt.Fprintf(stderr, "qc scan: %d records (甲 %d, 乙 %d, 丙 %d), %d unreadable\n", s.records, s.grades[qc.GradeA], s.grades[qc.GradeB], s.grades[qc.GradeC], s.bad)
	if s.bad > 0 {
		return fmt.Errorf("qc scan: %d records could not be read", s.bad)
	}
	return nil
}

// qcInputs lists the files to read: "-" (stdin), a file, or the *.jsonl
// files under a directory in name order.
func qcInputs(arg string) ([]string, error) {
	if arg == "-" {
		return []string{"-"}, nil
	}
	st, err := os.Stat(arg)
	if err != nil {
		return nil, clinic.Wrap(err, clinic.CodeNotFound, "input not found: "+arg, "未找到输入")
	}
	if !st.IsDir() {
		return []string{arg}, nil
	}
	var files []string
	err = filepath.WalkDir(arg, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(d.Name(), ".jsonl") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, clinic.Wrap(err, clinic.CodeInvalid, "cannot list "+arg, "无法列出目录")
	}
	sort.Strings(files)
	return files, nil
}

type qcScanner struct {
	engine  *qc.Engine
	workers int
	enc     *json.Encoder
	records int
	bad     int
	grades  map[qc.Grade]int
}

// scanFile reads a file in batches of qcBatch records, scans each batch in
// parallel and writes results in input order.
func (s *qcScanner) scanFile(ctx context.Context, name string, stdin io.Reader, maxLine int) error {
	var r io.Reader = stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return clinic.Wrap(err, clinic.CodeNotFound, "cannot open "+name, "无法打开文件")
		}
		defer f.Close()
		r = f
	}
	rd := qc.NewReader(r, name, maxLine)
	batch := make([]*qc.Record, 0, qcBatch)
	results := make([]qcResult, 0, qcBatch)
	for done := false; !done; {
		batch, results = batch[:0], results[:0]
		for len(batch) < qcBatch {
			rec, err := rd.Next()
			if errors.Is(err, io.EOF) {
				done = true
				break
			}
			if le, ok := errors.AsType[*qc.LineError](err); ok {
				batch = append(batch, nil)
				results = append(results, qcResult{File: le.File, Line: le.Line, Error: le.Err.Error()})
				continue
			}
			if err != nil {
				return err
			}
			batch = append(batch, rec)
			results = append(results, qcResult{})
		}
		if err := s.scanBatch(ctx, batch, results); err != nil {
			return err
		}
		for i := range results {
			if results[i].Result != nil {
				s.records++
				s.grades[results[i].Grade]++
			} else {
				s.bad++
			}
			if err := s.enc.Encode(results[i]); err != nil {
				return fmt.Errorf("write: %w", err)
			}
		}
	}
	return nil
}

func (s *qcScanner) scanBatch(ctx context.Context, batch []*qc.Record, results []qcResult) error {
	var (
		wg    sync.WaitGroup
		next  = make(chan int)
		errMu sync.Mutex
		first error
	)
	for range min(s.workers, len(batch)) {
		wg.Go(func() {
			for i := range next {
				res, err := s.engine.Scan(ctx, batch[i])
				if err != nil {
					errMu.Lock()
					if first == nil {
						first = err
					}
					errMu.Unlock()
					continue
				}
				results[i].Result = &res
			}
		})
	}
	for i, rec := range batch {
		if rec != nil {
			next <- i
		}
	}
	close(next)
	wg.Wait()
	return first
}
