package datasets

import (
	"fmt"
	"path"
	"path/filepath"
	"slices"
)

// Kind is one data-set format and where it lives in a data directory laid
// out like ../shared/data (see its README). Suites use it to evaluate every
// matching file under --data rather than a fixed list.
type Kind struct {
	// Name is a stable short name ("aci-bench", "department-csv", …).
	Name string
	// Globs are slash-separated patterns relative to the data root, in
	// path.Match syntax.
	Globs []string
	// Exclude are patterns matched against a file's base name.
	Exclude []string
	// Count scans the file at path and returns its number of records.
	Count func(path string, lim Limits) (int, error)
}

// countWith returns a Count function for scan.
func countWith[T any](scan ScanFunc[T]) func(string, Limits) (int, error) {
	return func(p string, lim Limits) (int, error) {
		n := 0
		err := ScanFile(scan, p, lim, func(T) error {
			n++
			return nil
		})
		return n, err
	}
}

// Catalog returns the formats this package reads with their locations in
// the shared data layout. Yizhu's own JSONL cases are looked for in
// notes/yizhu*/, triage/yizhu*/ and qc/*/.
func Catalog() []Kind {
	return []Kind{
		{Name: "aci-bench", Globs: []string{"notes/aci-bench/data/*.csv"}, Exclude: []string{"*_metadata.csv"}, Count: countWith(ScanACIBench)},
		{Name: "aci-bench-metadata", Globs: []string{"notes/aci-bench/data/*_metadata.csv"}, Count: countWith(ScanACIMetadata)},
		{Name: "mts-dialog", Globs: []string{"notes/mts-dialog/MTS-Dialog-*Set*.csv"}, Count: countWith(ScanMTSDialog)},
		{Name: "imcs21", Globs: []string{"notes/imcs21*/*.json"}, Exclude: []string{"mappings.json", "*MRG*"}, Count: countWith(ScanIMCS21)},
		{Name: "imcs21-symptoms", Globs: []string{"notes/imcs21*/symptom_norm.csv"}, Count: countWith(ScanIMCS21Symptoms)},
		{Name: "imcs21-split", Globs: []string{"notes/imcs21*/split.csv"}, Count: countWith(ScanIMCS21Split)},
		{Name: "mie-cardiology", Globs: []string{"notes/mie-cardiology/train.json", "notes/mie-cardiology/dev.json", "notes/mie-cardiology/test.json"}, Count: countWith(ScanMIE)},
		{Name: "promptcblue", Globs: []string{"notes/promptcblue*/train.json", "notes/promptcblue*/dev.json", "notes/promptcblue*/test.json"}, Count: countWith(ScanPromptCBLUE)},
		{Name: "yizhu-notes", Globs: []string{"notes/yizhu*/*.jsonl"}, Count: countWith(ScanNoteCases)},
		{Name: "department-csv", Globs: []string{"triage/cn-internal-medicine/*.csv"}, Count: countWith(ScanDepartmentCSV)},
		{Name: "kuake-qic", Globs: []string{"triage/kuake-qic/KUAKE-QIC_*.json"}, Count: countWith(ScanKUAKEQIC)},
		{Name: "vignettes", Globs: []string{"triage/avey/*vignettes.jsonl"}, Count: countWith(ScanVignettes)},
		{Name: "yizhu-triage", Globs: []string{"triage/yizhu*/*.jsonl"}, Count: countWith(ScanTriageCases)},
		{Name: "chip-cdn", Globs: []string{"records/chip-cdn/CHIP-CDN_*.json"}, Count: countWith(ScanCHIPCDN)},
		{Name: "yidu-s4k", Globs: []string{"records/yidu-s4k/subtask1_*.txt", "records/yidu-s4k/subtask1_*.json"}, Count: countWith(ScanYiduS4K)},
		{Name: "ws445-elements", Globs: []string{"standards/ws445*/*.csv"}, Count: countWith(ScanDataElements)},
		{Name: "yizhu-qc", Globs: []string{"qc/*/*.jsonl"}, Count: countWith(ScanQCCases)},
	}
}

// Find returns the files of kind k under root, sorted and without
// duplicates.
func Find(root string, k Kind) ([]string, error) {
	var out []string
	for _, g := range k.Globs {
		matches, err := filepath.Glob(filepath.Join(root, filepath.FromSlash(g)))
		if err != nil {
			return nil, fmt.Errorf("datasets.Find(%s): pattern %q: %w", k.Name, g, err)
		}
	next:
		for _, m := range matches {
			base := filepath.Base(m)
			for _, ex := range k.Exclude {
				if ok, _ := path.Match(ex, base); ok {
					continue next
				}
			}
			out = append(out, m)
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}
