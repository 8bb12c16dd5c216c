package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/yizhu-health/yizhu/agents/provider"
	"github.com/yizhu-health/yizhu/eval"
)

const evalUsage = `usage: yizhu eval [flags]
       yizhu eval --compare OLD NEW

Runs the eval suites on a data directory laid out like ../shared/data and
writes <out>/<suite>/report.json and report.html for each, plus
<out>/index.html. --compare prints the metric deltas of two report.json
files (or of two --out folders, suite by suite).

flags:
`

// cmdEval is `yizhu eval`: run suites, optionally gate on thresholds, or
// compare two reports. suites is built by the caller (wire.go).
func cmdEval(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer,
	build func(eval.Deps) (*eval.Registry, error)) error {
	suites, err := build(eval.Deps{})
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDefault := getenv("YIZHU_DATA")
	if dataDefault == "" {
		dataDefault = filepath.Join("..", "shared", "data")
	}
	names := "none registered"
	if suites != nil && len(suites.Names()) > 0 {
		names = strings.Join(suites.Names(), "|")
	}
	suite := fs.String("suite", "all", "suite to run: "+names+", a comma-separated list, or all")
	data := fs.String("data", dataDefault, "data directory laid out like ../shared/data (env YIZHU_DATA)")
	out := fs.String("out", filepath.Join("eval", "report"), "output directory")
	gate := fs.Bool("gate", false, "exit non-zero when a metric is outside the thresholds")
	thresholds := fs.String("thresholds", "", "thresholds file (default: eval/thresholds.yaml as built into the binary)")
	llm := fs.String("llm", "none", "none: built-in engines only; env: also the LLM configured by the YIZHU_LLM* variables (as for serve), for the suites that use one")
	compare := fs.String("compare", "", "compare report `OLD` with the report NEW given as the argument, then exit")
	fs.Usage = func() {
		fmt.Fprint(stderr, evalUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *compare != "" {
		if fs.NArg() != 1 {
			return errors.New("eval --compare: want OLD and NEW: yizhu eval --compare old/report.json new/report.json")
		}
		return eval.CompareCommand(stdout, *compare, fs.Arg(0))
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("eval: unexpected arguments %q", fs.Args())
	}
	switch *llm {
	case "none":
	case "env":
		cfg, err := loadConfig("eval", nil, getenv, stderr)
		if err != nil {
			return err
		}
		if cfg.LLM == "none" {
			return errors.New("eval --llm env: YIZHU_LLM is none; set YIZHU_LLM, YIZHU_LLM_BASE_URL and YIZHU_LLM_MODEL")
		}
		m, err := provider.NewModel(llmConfig(cfg))
		if err != nil {
			return fmt.Errorf("eval --llm env: %w", err)
		}
		if suites, err = build(eval.Deps{Model: m, ModelName: cfg.LLM + ":" + cfg.LLMModel}); err != nil {
			return err
		}
	default:
		return fmt.Errorf("eval: --llm %q: want none or env", *llm)
	}
	return eval.RunCommand(ctx, suites, eval.RunOptions{
		Suites:         *suite,
		DataDir:        *data,
		OutDir:         *out,
		Gate:           *gate,
		ThresholdsFile: *thresholds,
		GitCommit:      evalGitCommit(ctx),
		Logger:         slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}, stdout)
}

// evalGitCommit returns the commit the binary was built from: the VCS
// stamp when the build has one, else `git rev-parse HEAD` in the working
// directory, else "unknown".
func evalGitCommit(ctx context.Context) string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		var rev, dirty string
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					dirty = "-dirty"
				}
			}
		}
		if rev != "" {
			return rev + dirty
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	b, err := exec.CommandContext(ctx, "git", "rev-parse", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(b))
}
