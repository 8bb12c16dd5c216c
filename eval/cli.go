package eval

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/yizhu-health/yizhu/clinic"
)

// RunOptions are the settings of `yizhu eval`, parsed by cmd/yizhu.
type RunOptions struct {
	// Suites is a --suite value: "all", one name or a comma-separated list.
	Suites  string
	DataDir string
	OutDir  string
	// Gate checks the reports against the thresholds after the run.
	Gate bool
	// ThresholdsFile is read for the gate; empty means the built-in
	// eval/thresholds.yaml.
	ThresholdsFile string
	GitCommit      string
	Logger         *slog.Logger
	Clock          func() time.Time
}

// RunCommand runs the selected suites, prints each report's metrics
// sorted by name to w, writes the reports and <OutDir>/index.html, and
// with Gate set checks the thresholds, printing every violation. It
// returns an error when a suite fails or the gate does not pass.
func RunCommand(ctx context.Context, reg *Registry, opt RunOptions, w io.Writer) error {
	if reg == nil || len(reg.Names()) == 0 {
		return clinic.Errorf(clinic.CodeInvalid, "eval: no suites are registered in this binary")
	}
	selected, err := reg.Resolve(opt.Suites)
	if err != nil {
		return err
	}
	if len(selected) == 0 {
		return clinic.Errorf(clinic.CodeInvalid, "eval: --suite %q selects no suite", opt.Suites)
	}
	var th Thresholds
	if opt.Gate {
		// Read the thresholds first, so a bad file fails before the run.
		if th, err = LoadThresholds(opt.ThresholdsFile); err != nil {
			return err
		}
	}
	runner, err := New(Config{Registry: reg, DataDir: opt.DataDir, OutDir: opt.OutDir, GitCommit: opt.GitCommit, Logger: opt.Logger, Clock: opt.Clock})
	if err != nil {
		return err
	}
	reports, runErr := runner.Run(ctx, selected)
	for _, r := range reports {
		writeSummary(w, r, opt.OutDir)
	}
	if len(reports) > 0 {
		if _, err := WriteIndex(opt.OutDir); err != nil {
			return errors.Join(runErr, err)
		}
		fmt.Fprintf(w, "index: %s\n", filepath.Join(opt.OutDir, "index.html"))
	}
	if runErr != nil {
		return runErr
	}
	if !opt.Gate {
		return nil
	}
	violations := th.Gate(reports, reg.Names())
	if len(violations) == 0 {
		fmt.Fprintf(w, "gate: passed (%d suites)\n", len(reports))
		return nil
	}
	fmt.Fprintf(w, "gate: FAILED, %d problems:\n", len(violations))
	for _, v := range violations {
		fmt.Fprintf(w, "  %s\n", v)
	}
	return clinic.Errorf(clinic.CodeInvalid, "eval gate failed: %d problems (listed above)", len(violations))
}

// LoadThresholds reads a thresholds file, or the built-in
// eval/thresholds.yaml when path is empty.
func LoadThresholds(path string) (Thresholds, error) {
	if path == "" {
		return DefaultThresholds()
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, clinic.Wrap(err, clinic.CodeNotFound, "thresholds file cannot be read: "+path, "无法读取阈值文件："+path)
	}
	th, err := ParseThresholds(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return th, nil
}

// writeSummary prints one suite's numbers, metrics sorted by name.
func writeSummary(w io.Writer, r *Report, out string) {
	fmt.Fprintf(w, "== %s · %s · n=%d · %s\n", r.Suite, r.Dataset, r.N, r.Duration.Round(time.Millisecond))
	for _, k := range sortedKeys(r.Metrics) {
		fmt.Fprintf(w, "   %-40s %s\n", k, formatNum(r.Metrics[k]))
	}
	fmt.Fprintf(w, "   report: %s\n", filepath.Join(out, r.Suite, "report.html"))
}

// CompareCommand prints the metric deltas of two reports to w. Given two
// directories (two --out folders), it compares every <suite>/report.json
// present in both and notes the suites found in only one.
func CompareCommand(w io.Writer, oldPath, newPath string) error {
	oi, oerr := os.Stat(oldPath)
	ni, nerr := os.Stat(newPath)
	if oerr != nil || nerr != nil || !oi.IsDir() || !ni.IsDir() {
		return compareFiles(w, oldPath, newPath)
	}
	suites := map[string]int{} // bit 1: in old, bit 2: in new
	for bit, dir := range map[int]string{1: oldPath, 2: newPath} {
		matches, err := filepath.Glob(filepath.Join(dir, "*", "report.json"))
		if err != nil {
			return fmt.Errorf("eval.CompareCommand: %w", err)
		}
		for _, m := range matches {
			suites[filepath.Base(filepath.Dir(m))] |= bit
		}
	}
	compared := 0
	for _, s := range sortedKeys(suites) {
		switch suites[s] {
		case 1:
			fmt.Fprintf(w, "suite %s: only in %s\n", s, oldPath)
		case 2:
			fmt.Fprintf(w, "suite %s: only in %s\n", s, newPath)
		default:
			if err := compareFiles(w, filepath.Join(oldPath, s, "report.json"), filepath.Join(newPath, s, "report.json")); err != nil {
				return err
			}
			compared++
		}
	}
	if compared == 0 {
		return clinic.Errorf(clinic.CodeNotFound, "eval --compare: no suite report appears in both %s and %s", oldPath, newPath)
	}
	return nil
}

func compareFiles(w io.Writer, oldPath, newPath string) error {
	old, err := ReadReport(oldPath)
	if err != nil {
		return err
	}
	cur, err := ReadReport(newPath)
	if err != nil {
		return err
	}
	return WriteComparison(w, old, cur)
}
