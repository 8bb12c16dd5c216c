package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/yizhu-health/yizhu/agents/triage"
)

const triageUsage = `usage: yizhu triage <subcommand> [flags]

subcommands:
  train --data CSV --out MODEL [--alpha A] [--min-count N]
        fit the character n-gram (1–3) naive Bayes department router on a
        CSV of historical registrations (columns department + text, or
        department + title + ask) and write the versioned JSON model file
  eval  [--data DIR] [--folds K] [--seed S]
        measure department routing on DIR/triage/cn-internal-medicine/dev.csv
        (KB alone, router by K-fold cross-validation, KB+router) and acuity
        on the built-in red-flag vignettes; prints one JSON object
`

// cmdTriage runs `yizhu triage train|eval`.
func cmdTriage(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, triageUsage)
		return errors.New("triage: want a subcommand")
	}
	switch args[0] {
	case "train":
		return triageTrain(args[1:], stdout, stderr)
	case "eval":
		return triageEval(ctx, args[1:], stdout, stderr)
	}
	fmt.Fprint(stderr, triageUsage)
	return fmt.Errorf("triage: unknown subcommand %q", args[0])
}

func triageTrain(args []string, stdout, stderr io.Writer) error {
	fset := flag.NewFlagSet("triage train", flag.ContinueOnError)
	fset.SetOutput(stderr)
	fset.Usage = func() { fmt.Fprint(stderr, triageUsage); fset.PrintDefaults() }
	data := fset.String("data", "", "CSV of historical registrations (required)")
	out := fset.String("out", "", "model file to write (required)")
	alpha := fset.Float64("alpha", 0.1, "additive smoothing")
	minCount := fset.Int("min-count", 2, "drop n-grams seen fewer times (smaller model)")
	if err := fset.Parse(args); err != nil {
		return err
	}
	if *data == "" || *out == "" || fset.NArg() > 0 {
		fset.Usage()
		return errors.New("triage train: want --data CSV and --out MODEL")
	}
	f, err := os.Open(*data)
	if err != nil {
		return fmt.Errorf("triage train: %w", err)
	}
	defer f.Close()
	rows, err := triage.ReadRoutingCSV(f)
	if err != nil {
		return fmt.Errorf("triage train %s: %w", *data, err)
	}
	r, err := triage.RouterConfig{Alpha: *alpha, MinCount: *minCount}.Train(rows)
	if err != nil {
		return fmt.Errorf("triage train %s: %w", *data, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(*out), ".triage-model-*")
	if err != nil {
		return fmt.Errorf("triage train: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := r.Save(tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("triage train: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("triage train: %w", err)
	}
	if err := os.Rename(tmp.Name(), *out); err != nil {
		return fmt.Errorf("triage train: %w", err)
	}
	fmt.Fprintf(stdout, "trained on %d rows, %d departments; wrote %s\n", len(rows), len(r.Labels()), *out)
	return nil
}

func triageEval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fset := flag.NewFlagSet("triage eval", flag.ContinueOnError)
	fset.SetOutput(stderr)
	fset.Usage = func() { fmt.Fprint(stderr, triageUsage); fset.PrintDefaults() }
	dir := fset.String("data", filepath.Join("..", "shared", "data"), "directory of the shared evaluation data")
	folds := fset.Int("folds", 5, "cross-validation folds")
	seed := fset.Uint64("seed", 1, "fold shuffle seed")
	if err := fset.Parse(args); err != nil {
		return err
	}
	e, err := triage.New(triage.Config{})
	if err != nil {
		return fmt.Errorf("triage eval: %w", err)
	}
	path := filepath.Join(*dir, "triage", "cn-internal-medicine", "dev.csv")
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("triage eval: %w", err)
	}
	rows, err := triage.ReadRoutingCSV(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("triage eval %s: %w", path, err)
	}
	kbAll, err := triage.EvalRouting(ctx, e, rows, triage.RoutingOptions{})
	if err != nil {
		return fmt.Errorf("triage eval: %w", err)
	}
	kbLabels, err := triage.EvalRouting(ctx, e, rows, triage.RoutingOptions{LabelsOnly: true})
	if err != nil {
		return fmt.Errorf("triage eval: %w", err)
	}
	cv, err := triage.CrossValidate(ctx, rows, triage.CVConfig{Folds: *folds, Seed: *seed, Engine: e})
	if err != nil {
		return fmt.Errorf("triage eval: %w", err)
	}
	vg, err := triage.EvalVignettes(ctx, e, triage.DefaultVignettes())
	if err != nil {
		return fmt.Errorf("triage eval: %w", err)
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(map[string]any{
		"data": path, "rows": len(rows),
		"kb_catalog": kbAll, "kb_labels_only": kbLabels, "cross_validation": cv, "vignettes": vg,
	})
}
