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
	"strings"

	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/inference/ecg"
	"github.com/yizhu-health/yizhu/inference/ecg/wfdb"
)

const ecgUsage = `usage: yizhu ecg analyze RECORD [--json] [--fs HZ] [--sex M|F] [--age YEARS] [--mains 50|60]

Analyses one ECG record and prints its pre-read: beats, rhythm episodes,
measurements, findings and critical values (危急值). RECORD is a WFDB
header (.hea; its signal files in .dat or challenge .mat form sit beside
it) or a CSV file with a header row of lead names and one column per lead
in mV (then --fs gives the sampling rate). With --json the report is one
JSON object: beats [{sample,label}], rhythms [{start,end,type}],
findings, alerts, critical. The report is a draft for the reading doctor.
`

// cmdECG runs `yizhu ecg analyze`.
func cmdECG(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "analyze" {
		fmt.Fprint(stderr, ecgUsage)
		return errors.New("ecg: want the analyze subcommand")
	}
	fset := flag.NewFlagSet("ecg analyze", flag.ContinueOnError)
	fset.SetOutput(stderr)
	fset.Usage = func() { fmt.Fprint(stderr, ecgUsage); fset.PrintDefaults() }
	asJSON := fset.Bool("json", false, "print the report as one JSON object")
	rate := fset.Float64("fs", 0, "sampling rate in Hz of a CSV record (125–1000)")
	sex := fset.String("sex", "", "patient sex M or F (STEMI thresholds in V2–V3); default from the header")
	age := fset.Int("age", -1, "patient age in years; default from the header")
	mains := fset.Float64("mains", 50, "powerline frequency to suppress: 50 or 60 Hz")
	// Accept the record before or after the flags.
	var inputs []string
	rest := args[1:]
	for {
		if err := fset.Parse(rest); err != nil {
			return err
		}
		if fset.NArg() == 0 {
			break
		}
		inputs = append(inputs, fset.Arg(0))
		rest = fset.Args()[1:]
	}
	if len(inputs) != 1 {
		fmt.Fprint(stderr, ecgUsage)
		return errors.New("ecg analyze: want exactly one RECORD")
	}
	rec, err := ecgLoad(inputs[0], *rate)
	if err != nil {
		return fmt.Errorf("ecg analyze %s: %w", inputs[0], err)
	}
	switch strings.ToUpper(*sex) {
	case "":
	case "M":
		rec.Sex = clinic.SexMale
	case "F":
		rec.Sex = clinic.SexFemale
	default:
		return fmt.Errorf("ecg analyze: --sex %q: want M or F", *sex)
	}
	if *age >= 0 {
		rec.AgeYears = *age
	}
	rep, err := ecg.AnalyzeWith(ctx, rec, ecg.Config{MainsHz: *mains})
	if err != nil {
		return fmt.Errorf("ecg analyze %s: %w", inputs[0], err)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		return enc.Encode(rep)
	}
	ecgPrint(stdout, rep)
	return nil
}

// ecgLoad reads a WFDB (.hea, or the .dat/.mat beside it) or CSV record.
func ecgLoad(path string, rateHz float64) (ecg.Record, error) {
	ext := strings.ToLower(filepath.Ext(path))
	switch ext {
	case ".csv":
		f, err := os.Open(path)
		if err != nil {
			return ecg.Record{}, err
		}
		defer f.Close()
		if rateHz == 0 {
			return ecg.Record{}, errors.New("a CSV record needs --fs")
		}
		name := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
		w, err := wfdb.ReadCSV(f, name, rateHz)
		if err != nil {
			return ecg.Record{}, err
		}
		return ecg.FromWFDB(w)
	case ".hea", ".dat", ".mat", "":
		dir, base := filepath.Split(path)
		if dir == "" {
			dir = "."
		}
		base = strings.TrimSuffix(base, filepath.Ext(base))
		w, err := wfdb.ReadRecord(os.DirFS(dir), base+".hea")
		if err != nil {
			return ecg.Record{}, err
		}
		return ecg.FromWFDB(w)
	}
	return ecg.Record{}, fmt.Errorf("unsupported record type %q (want .hea or .csv)", ext)
}

// ecgPrint writes the report for a person.
func ecgPrint(w io.Writer, rep ecg.Report) {
	secs := func(s int64) float64 { return float64(s) / rep.RateHz }
	fmt.Fprintf(w, "ECG pre-read (draft) %s: %d leads (%s), %.1f s at %g Hz\n",
		rep.ID, len(rep.Leads), strings.Join(rep.Leads, " "), secs(int64(rep.Samples)), rep.RateHz)
	counts := map[ecg.Label]int{}
	for _, b := range rep.Beats {
		counts[b.Label]++
	}
	fmt.Fprintf(w, "beats: %d (N %d, S %d, V %d, Q %d)\n", len(rep.Beats),
		counts[ecg.LabelNormal], counts[ecg.LabelSupraventricular], counts[ecg.LabelVentricular], counts[ecg.LabelUnclassifiable])
	if m := rep.Measurements; m != nil {
		fmt.Fprintf(w, "HR %.0f/min  RR %.0f ms  PR %.0f ms  QRS %.0f ms  QT %.0f ms  QTc %.0f (Bazett) %.0f (Fridericia) ms\n",
			m.HRbpm, m.RRms, m.PRms, m.QRSms, m.QTms, m.QTcBazettMs, m.QTcFridericiaMs)
		var st []string
		for _, x := range m.ST {
			st = append(st, fmt.Sprintf("%s %+.2f", x.Lead, x.STmV))
		}
		if len(st) > 0 {
			fmt.Fprintf(w, "ST (mV, J+%d ms): %s\n", m.ST[0].AtMs, strings.Join(st, "  "))
		}
	}
	fmt.Fprintln(w, "rhythms:")
	for _, e := range rep.Rhythms {
		fmt.Fprintf(w, "  %8.1f–%8.1f s  %s\n", secs(e.Start), secs(e.End), e.Type)
	}
	if len(rep.Findings) > 0 {
		fmt.Fprintln(w, "findings:")
		for _, f := range rep.Findings {
			fmt.Fprintf(w, "  [%s] %s %s", f.Severity, f.Title, f.TitleZH)
			if f.Unit != "" {
				fmt.Fprintf(w, " %g %s", f.Value, f.Unit)
			}
			if len(f.Leads) > 0 {
				fmt.Fprintf(w, " leads %s", strings.Join(f.Leads, ","))
			}
			fmt.Fprintf(w, " (%.1f–%.1f s)\n", secs(f.Start), secs(f.End))
		}
	}
	if rep.Critical {
		fmt.Fprintln(w, "CRITICAL VALUES (危急值):")
		for _, a := range rep.Alerts {
			fmt.Fprintf(w, "  %s %s at %.1f–%.1f s: %s\n", a.RuleID, a.Title, secs(a.Start), secs(a.End), a.Details)
		}
	} else {
		fmt.Fprintln(w, "no critical values")
	}
}
