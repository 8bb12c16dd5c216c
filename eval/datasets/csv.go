package datasets

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

// csvRow is one data row of a CSV file with named access to its columns.
type csvRow struct {
	line   int
	fields []string
	index  map[string]int
}

// get returns the named column, or "" when the file has no such column.
func (r csvRow) get(col string) string {
	i, ok := r.index[col]
	if !ok || i >= len(r.fields) {
		return ""
	}
	return r.fields[i]
}

// scanCSV reads a CSV file with a header row. Column names are matched
// case-insensitively after trimming spaces; every name in required must be
// present. Each data row must have as many fields as the header. fn gets
// each row with the line it starts on.
func scanCSV(r io.Reader, name string, lim Limits, required []string, fn func(csvRow) error) error {
	lim = lim.withDefaults()
	cr := csv.NewReader(boundedReader(r, lim.MaxFileBytes))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = false
	header, err := cr.Read()
	if err != nil {
		if err == io.EOF {
			return badLine(name, 1, "empty file: want a header row")
		}
		return csvError(name, err, lim)
	}
	index := make(map[string]int, len(header))
	for i, h := range header {
		key := strings.ToLower(strings.TrimSpace(h))
		if _, dup := index[key]; dup {
			return badLine(name, 1, "duplicate column %q", h)
		}
		index[key] = i
	}
	for _, col := range required {
		if _, ok := index[col]; !ok {
			return badLine(name, 1, "missing column %q (have %s)", col, strings.Join(header, ","))
		}
	}
	c := counter{name: name, max: lim.MaxRecords}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return csvError(name, err, lim)
		}
		line, _ := cr.FieldPos(0)
		if err := c.next(line, 0); err != nil {
			return err
		}
		if len(rec) != len(header) {
			return badLine(name, line, "%d fields, want %d as in the header", len(rec), len(header))
		}
		for i, f := range rec {
			if len(f) > lim.MaxFieldBytes {
				return tooLarge(name, line, 0, fmt.Sprintf("column %q", header[i]), int64(lim.MaxFieldBytes))
			}
		}
		if err := fn(csvRow{line: line, fields: rec, index: index}); err != nil {
			return err
		}
	}
}

func csvError(name string, err error, lim Limits) error {
	if errors.Is(err, errTooLarge) {
		return tooLarge(name, 0, 0, "file size", lim.MaxFileBytes)
	}
	if pe, ok := errors.AsType[*csv.ParseError](err); ok {
		return badLine(name, pe.Line, "%v", pe.Err)
	}
	return fmt.Errorf("datasets: read %s: %w", name, err)
}
