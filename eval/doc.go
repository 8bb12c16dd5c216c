// Package eval is Yizhu's evaluation harness: it runs suites that score a
// capability (ECG reading, triage, note drafting, QC, retrieval) on real
// public data, writes a machine-readable report.json and a self-contained
// report.html per suite, gates CI on minimum metrics and compares two
// reports. Metrics live in eval/metrics, data-set readers in
// eval/datasets, and suites in eval/suites/<name>.
//
// # Running
//
// cmd/yizhu builds a [Registry], registers every suite it links, and
// hands `yizhu eval` to a [Runner]:
//
//	reg := eval.NewRegistry(eval.Deps{Model: model, ModelName: "qwen2.5"})
//	err := reg.Register(datasetsuite.New(datasetsuite.Config{}))
//	run, err := eval.New(eval.Config{Registry: reg, DataDir: "../shared/data", OutDir: "eval/report"})
//	reports, err := run.Run(ctx, reg.Names())
//
// `yizhu eval` itself is [RunCommand] (run, print, index, gate) and
// [CompareCommand] (--compare) behind cmd/yizhu's flag parsing. Each suite
// gets an [Env] (data root, its own output folder, logger, clock, and the
// optional LLM and store the binary configured) and writes to
// <out>/<suite>/report.json and report.html.
//
// # Adding a suite
//
//  1. Create package eval/suites/<name> with a type that implements
//     [Suite]: Name returns <name> (lower-case letters, digits, dashes);
//     Run finds every matching file under env.DataDir (use
//     eval/datasets.Find with a datasets.Kind or your own glob, never a
//     fixed list of records), scores it with eval/metrics, and returns a
//     [Report]. Take your dependencies (an ECG detector, an agent) through
//     your package's Config in New, or build them from env.Model.
//  2. Fill the Report honestly: N is the number of records scored,
//     Metrics holds fractions under stable snake_case names, PerRecord
//     (drawn as a bar chart) and PerClass tables, Confusion and Latency
//     when they apply, Config the settings the numbers depend on, and
//     Notes say in words what was measured and what was skipped. Leave
//     GitCommit, StartedAt and Duration to the harness. The helpers
//     [Report.AddClassification], [Report.AddTriage], [Report.AddBeats],
//     [Report.AddRouge] and [Report.AddLatencies] fill the standard
//     metric names from eval/metrics results.
//  3. Keep Run deterministic: iterate files and records in sorted order,
//     seed any randomness, and keep timings out of Metrics (use Latency).
//  4. Add one line to cmd/yizhu's registry wiring:
//     reg.Register(<name>.New(<name>.Config{…})), and a section to
//     eval/thresholds.yaml with the minimum (or maximum) values that must
//     hold; the gate fails on unknown suites and metrics, so names must
//     match the report.
//  5. Test the suite on a small fixture directory under its testdata/
//     laid out like ../shared/data, with evaltest.Run, which runs it
//     through the Runner twice and fails on an invalid or
//     non-deterministic report. eval/suites/datasets is a worked example.
//
// # Reports, gates and comparison
//
// [WriteReport] writes both files and [WriteIndex] an index.html that
// links every suite report under the output folder. [RenderHTML] draws a
// confusion-matrix heat map, a per-record bar chart and a latency
// histogram as inline SVG and escapes every string. [ParseThresholds]
// decodes thresholds.yaml strictly and [Thresholds.Gate] lists every
// metric outside its bounds. [Compare] and [WriteComparison] print the
// per-metric deltas of two reports, sorted by metric name.
package eval
