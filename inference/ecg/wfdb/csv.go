package wfdb

import (
	"encoding/csv"
	"errors"
	"io"
	"math"
	"strconv"
	"strings"
)

// ReadCSV reads a record from CSV text: a header row of lead names, then
// one row per sample with one column per lead, in millivolts. A first
// column named "time", "t", "sample" or "index" is ignored. NaN, Inf and
// non-numbers are errors, as are ragged rows, a rate outside
// [MinRateHz, MaxRateHz] and more than MaxSamples values.
func ReadCSV(r io.Reader, name string, rateHz float64) (*Record, error) {
	if !(rateHz >= MinRateHz && rateHz <= MaxRateHz) {
		return nil, formatError("sampling_rate", "采样率超出支持范围(125–1000 Hz)", "sampling rate %g Hz outside [%d, %d]", rateHz, MinRateHz, MaxRateHz)
	}
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	cr.TrimLeadingSpace = true
	head, err := cr.Read()
	if err != nil {
		return nil, formatError("csv", "CSV 缺少表头行", "read header row: %v", err)
	}
	skip := 0
	if len(head) > 0 {
		switch strings.ToLower(strings.TrimSpace(head[0])) {
		case "time", "t", "sample", "index":
			skip = 1
		}
	}
	nlead := len(head) - skip
	if nlead < 1 || nlead > MaxSignals {
		return nil, formatError("csv", "CSV 导联列数无效", "%d lead columns, want 1 to %d", nlead, MaxSignals)
	}
	rec := &Record{Name: name, FrequencyHz: rateHz, Samples: make([][]float32, nlead), Leads: make([]Lead, nlead)}
	for i := range nlead {
		rec.Leads[i] = Lead{Name: strings.TrimSpace(head[skip+i]), Units: "mV", Voltage: true}
	}
	row := 1
	for {
		fields, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		row++
		if err != nil {
			return nil, formatError("csv", "CSV 格式错误", "row %d: %v", row, err)
		}
		if len(fields) != len(head) {
			return nil, formatError("csv", "CSV 行列数不一致", "row %d has %d columns, header has %d", row, len(fields), len(head))
		}
		if (row-1)*nlead > MaxSamples {
			return nil, tooLarge("csv", "more than %d samples", MaxSamples)
		}
		for i := range nlead {
			v, err := strconv.ParseFloat(strings.TrimSpace(fields[skip+i]), 32)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, formatError("csv", "CSV 含非数值、NaN 或无穷大", "row %d column %q: %q is not a finite number", row, rec.Leads[i].Name, fields[skip+i])
			}
			rec.Samples[i] = append(rec.Samples[i], float32(v))
		}
	}
	if rec.Len() == 0 {
		return nil, formatError("csv", "CSV 没有数据行", "no sample rows")
	}
	return rec, nil
}
