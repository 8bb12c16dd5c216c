package eval

import (
	"bytes"
	"fmt"
	"html/template"
	"os"
	"path/filepath"
	"slices"
)

// WriteIndex writes <outDir>/index.html: one row per <suite>/report.json
// found under outDir (from this run or earlier ones), linking to each
// suite's report.html. It returns the reports it listed.
func WriteIndex(outDir string) ([]*Report, error) {
	matches, err := filepath.Glob(filepath.Join(outDir, "*", "report.json"))
	if err != nil {
		return nil, fmt.Errorf("eval.WriteIndex: %w", err)
	}
	slices.Sort(matches)
	type entry struct {
		R    *Report
		Link string
		Took string
		Top  []string
	}
	var entries []entry
	var reports []*Report
	for _, m := range matches {
		r, err := ReadReport(m)
		if err != nil {
			return nil, err
		}
		reports = append(reports, r)
		e := entry{R: r, Link: filepath.ToSlash(filepath.Join(filepath.Base(filepath.Dir(m)), "report.html")), Took: buildView(r).Duration}
		for i, k := range sortedKeys(r.Metrics) {
			if i == 8 {
				e.Top = append(e.Top, fmt.Sprintf("… %d more", len(r.Metrics)-8))
				break
			}
			e.Top = append(e.Top, k+" = "+formatNum(r.Metrics[k]))
		}
		entries = append(entries, e)
	}
	var buf bytes.Buffer
	if err := indexTmpl.Execute(&buf, entries); err != nil {
		return nil, fmt.Errorf("eval.WriteIndex: %w", err)
	}
	if err := os.WriteFile(filepath.Join(outDir, "index.html"), buf.Bytes(), 0o644); err != nil {
		return nil, fmt.Errorf("eval.WriteIndex: %w", err)
	}
	return reports, nil
}

var indexTmpl = template.Must(template.New("index").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Yizhu eval reports</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI","PingFang SC","Noto Sans CJK SC",sans-serif;margin:2rem auto;max-width:1100px;color:#1b1b1b;padding:0 1rem}
table{border-collapse:collapse;font-size:.9rem}th,td{border:1px solid #ddd;padding:.3rem .6rem;text-align:left;vertical-align:top}
th{background:#f3f5f8}td.m{font-size:.8rem;color:#333}
</style>
</head>
<body>
<h1>Yizhu eval reports</h1>
<table>
<tr><th>suite</th><th>dataset</th><th>n</th><th>metrics</th><th>commit</th><th>took</th></tr>
{{range .}}<tr><td><a href="{{.Link}}">{{.R.Suite}}</a></td><td>{{.R.Dataset}}</td><td>{{.R.N}}</td><td class="m">{{range .Top}}{{.}}<br>{{end}}</td><td>{{.R.GitCommit}}</td><td>{{.Took}}</td></tr>
{{else}}<tr><td colspan="6">No reports.</td></tr>
{{end}}</table>
</body>
</html>
`))
