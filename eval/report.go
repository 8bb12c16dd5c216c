package eval

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/yizhu-health/yizhu/clinic"
)

// MaxReportBytes bounds a report.json read back for comparison.
const MaxReportBytes = 64 << 20

// MarshalReport returns r as indented JSON with a trailing newline.
// Map keys come out sorted, so equal reports give equal bytes.
func MarshalReport(r *Report) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return nil, fmt.Errorf("eval.MarshalReport(%s): %w", r.Suite, err)
	}
	return buf.Bytes(), nil
}

// WriteReport writes report.json and report.html into dir.
func WriteReport(dir string, r *Report) error {
	js, err := MarshalReport(r)
	if err != nil {
		return err
	}
	var page bytes.Buffer
	if err := RenderHTML(&page, r); err != nil {
		return err
	}
	for name, data := range map[string][]byte{"report.json": js, "report.html": page.Bytes()} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return fmt.Errorf("eval.WriteReport: %w", err)
		}
	}
	return nil
}

// ReadReport reads a report.json.
func ReadReport(path string) (*Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, clinic.Wrap(err, clinic.CodeNotFound, "report file cannot be opened: "+path, "无法打开评测报告文件："+path)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxReportBytes+1))
	if err != nil {
		return nil, fmt.Errorf("eval.ReadReport(%s): %w", path, err)
	}
	if len(data) > MaxReportBytes {
		return nil, clinic.Errorf(clinic.CodeTooLarge, "report %s exceeds %d bytes", path, MaxReportBytes)
	}
	var r Report
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, clinic.Wrap(err, clinic.CodeInvalid, "report file is not a report.json: "+path, "不是有效的评测报告："+path)
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return &r, nil
}
