// Command yizhu is the Yizhu (医助) clinic assistant service: one binary that
// serves the API and pages, and runs the batch tools.
//
//	yizhu serve [flags]        start the service (embedded defaults need nothing installed)
//	yizhu token --role ROLE    print a bearer token signed with the configured secret
//	yizhu eval [--suite S]     run the eval suites and write eval/report
//	yizhu ecg analyze RECORD   analyse an ECG record (WFDB, .mat, CSV)
//	yizhu qc scan DIR|-        score records against the documentation rules
//	yizhu ingest DIR|FILE      add guideline documents to the RAG store
//	yizhu version              print the version
//
// Configuration comes from YIZHU_* environment variables; flags override
// them (`yizhu serve -h` lists both). Only this package reads the
// environment; everything else gets its dependencies from wire.go.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "yizhu:", err)
		os.Exit(1)
	}
}

const usage = `usage: yizhu <command> [flags]

commands:
  serve      start the HTTP service
  token      print a bearer token: yizhu token --role doctor --subject dr.wang
  triage     yizhu triage train --data CSV --out MODEL | yizhu triage eval [--data DIR]
  ecg        yizhu ecg analyze RECORD [--json]: beats, rhythms, findings, critical values
  qc         yizhu qc scan DIR|FILE|- : score records against the documentation rules (JSONL in/out)
  ingest     yizhu ingest DIR|FILE [--collection NAME]: add guideline documents to the RAG store
  eval       run the eval suites on ../shared/data (or --data DIR) and write reports
  version    print the version
`

// run is the whole program; tests drive it directly.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return cmdServe(ctx, rest, getenv, stdout, stderr, nil)
	case "token":
		return cmdToken(rest, getenv, stdout, stderr)
	case "triage":
		return cmdTriage(ctx, rest, stdout, stderr)
	case "ecg":
		return cmdECG(ctx, rest, stdout, stderr)
	case "qc":
		return cmdQC(ctx, rest, stdin, stdout, stderr)
	case "ingest":
		return runIngest(ctx, rest, getenv, stdout, stderr)
	case "eval":
		return cmdEval(ctx, rest, getenv, stdout, stderr, evalSuites)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "yizhu", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}
