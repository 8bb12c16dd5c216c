package wfdb

import (
	"bufio"
	"bytes"
	"io"
	"math"
	"path"
	"strconv"
	"strings"
)

// Header is a parsed WFDB header (.hea) of a single-segment record.
type Header struct {
	Name        string
	FrequencyHz float64
	// NumSamples is the number of samples per signal (0 if not given).
	NumSamples int
	Signals    []Signal
	// Comments holds the "#" lines without the leading "#", trimmed.
	Comments []string
}

// Signal is one signal line of a header.
type Signal struct {
	FileName        string
	Format          int
	SamplesPerFrame int
	Skew            int
	ByteOffset      int64
	// Gain is in ADC units per physical unit; Baseline is the ADC value
	// of physical zero.
	Gain     float64
	Baseline int
	Units    string
	ADCRes   int
	ADCZero  int
	// InitValue and Checksum are checked when HasInit / HasChecksum.
	InitValue   int
	HasInit     bool
	Checksum    int
	HasChecksum bool
	BlockSize   int
	Description string
}

// defaultGain is the WFDB default when a signal line has no gain field.
const defaultGain = 200

// ParseHeader reads a header. It rejects multi-segment records, an
// impossible gain (0, negative, NaN, Inf), a sampling rate outside
// [MinRateHz, MaxRateHz] and signal file names that leave the record's
// directory.
func ParseHeader(r io.Reader) (*Header, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxHeaderBytes+1))
	if err != nil {
		return nil, formatError("header", "无法读取头文件", "read header: %v", err)
	}
	if len(data) > MaxHeaderBytes {
		return nil, tooLarge("header", "header larger than %d bytes", MaxHeaderBytes)
	}
	h := &Header{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), MaxHeaderBytes)
	nsig := -1
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" {
			continue
		}
		if s[0] == '#' {
			h.Comments = append(h.Comments, strings.TrimSpace(s[1:]))
			continue
		}
		if nsig < 0 {
			if nsig, err = h.parseRecordLine(s); err != nil {
				return nil, err
			}
			continue
		}
		if len(h.Signals) >= nsig {
			return nil, formatError("header", "头文件信号行多于声明数", "line %d: more signal lines than the %d declared", line, nsig)
		}
		sig, err := parseSignalLine(s)
		if err != nil {
			return nil, err
		}
		h.Signals = append(h.Signals, sig)
	}
	if err := sc.Err(); err != nil {
		return nil, formatError("header", "头文件格式错误", "scan header: %v", err)
	}
	if nsig < 0 {
		return nil, formatError("header", "头文件缺少记录行", "no record line")
	}
	if len(h.Signals) != nsig {
		return nil, formatError("header", "头文件信号行数与声明不符", "%d signal lines, %d declared", len(h.Signals), nsig)
	}
	return h, nil
}

func (h *Header) parseRecordLine(s string) (int, error) {
	f := strings.Fields(s)
	if len(f) < 2 {
		return 0, formatError("header", "记录行格式错误", "record line %q: want name and signal count", s)
	}
	name := f[0]
	if strings.Contains(name, "/") {
		return 0, formatError("header", "不支持多段记录", "multi-segment record %q is not supported", name)
	}
	h.Name = name
	nsig, err := strconv.Atoi(f[1])
	if err != nil || nsig < 1 || nsig > MaxSignals {
		return 0, formatError("header", "信号数无效", "signal count %q outside [1, %d]", f[1], MaxSignals)
	}
	h.FrequencyHz = 250 // WFDB default when absent
	if len(f) > 2 {
		fs := f[2]
		if i := strings.IndexByte(fs, '/'); i >= 0 {
			fs = fs[:i] // counter frequency not used
		}
		v, err := strconv.ParseFloat(fs, 64)
		if err != nil {
			return 0, formatError("sampling_rate", "采样率无效", "sampling rate %q: %v", f[2], err)
		}
		h.FrequencyHz = v
	}
	if !(h.FrequencyHz >= MinRateHz && h.FrequencyHz <= MaxRateHz) {
		return 0, formatError("sampling_rate", "采样率超出支持范围(125–1000 Hz)", "sampling rate %g Hz outside [%d, %d]", h.FrequencyHz, MinRateHz, MaxRateHz)
	}
	if len(f) > 3 {
		n, err := strconv.Atoi(f[3])
		if err != nil || n < 0 {
			return 0, formatError("num_samples", "样本数无效", "sample count %q is not a non-negative integer", f[3])
		}
		if int64(n)*int64(nsig) > MaxSamples {
			return 0, tooLarge("num_samples", "%d samples × %d signals exceeds %d", n, nsig, MaxSamples)
		}
		h.NumSamples = n
	}
	return nsig, nil
}

// supportedFormat reports whether the reader decodes format f.
func supportedFormat(f int) bool {
	switch f {
	case 212, 16, 61, 80, 24, 32:
		return true
	}
	return false
}

func parseSignalLine(s string) (Signal, error) {
	f := strings.Fields(s)
	if len(f) < 2 {
		return Signal{}, formatError("signal", "信号行格式错误", "signal line %q: want file name and format", s)
	}
	sig := Signal{FileName: f[0], SamplesPerFrame: 1, Gain: defaultGain, Units: "mV"}
	if p := path.Clean(sig.FileName); sig.FileName == "-" || p != sig.FileName || strings.Contains(p, "/") || p == "." || p == ".." {
		return Signal{}, formatError("signal", "信号文件名无效", "signal file name %q must be a plain file name", sig.FileName)
	}
	// format[xspf][:skew][+offset]
	fmtField := f[1]
	if i := strings.IndexByte(fmtField, '+'); i >= 0 {
		off, err := strconv.ParseInt(fmtField[i+1:], 10, 64)
		if err != nil || off < 0 || off > 1<<40 {
			return Signal{}, formatError("format", "字节偏移无效", "byte offset in %q", fmtField)
		}
		sig.ByteOffset = off
		fmtField = fmtField[:i]
	}
	if i := strings.IndexByte(fmtField, ':'); i >= 0 {
		sk, err := strconv.Atoi(fmtField[i+1:])
		if err != nil {
			return Signal{}, formatError("format", "偏斜字段无效", "skew in %q", f[1])
		}
		sig.Skew = sk
		fmtField = fmtField[:i]
	}
	if i := strings.IndexByte(fmtField, 'x'); i >= 0 {
		spf, err := strconv.Atoi(fmtField[i+1:])
		if err != nil || spf < 1 {
			return Signal{}, formatError("format", "每帧样本数无效", "samples per frame in %q", f[1])
		}
		sig.SamplesPerFrame = spf
		fmtField = fmtField[:i]
	}
	v, err := strconv.Atoi(fmtField)
	if err != nil {
		return Signal{}, formatError("format", "存储格式无效", "format %q is not a number", f[1])
	}
	sig.Format = v
	if !supportedFormat(v) {
		return Signal{}, formatError("format", "不支持的存储格式", "format %d is not supported (212, 16, 61, 80, 24, 32 are)", v)
	}
	if sig.SamplesPerFrame != 1 || sig.Skew != 0 {
		return Signal{}, formatError("format", "不支持多样本帧或偏斜", "samples per frame %d, skew %d: only 1 and 0 are supported", sig.SamplesPerFrame, sig.Skew)
	}
	baselineSet := false
	if len(f) > 2 {
		// gain[(baseline)][/units]
		g := f[2]
		if i := strings.IndexByte(g, '/'); i >= 0 {
			sig.Units = g[i+1:]
			g = g[:i]
		}
		if i := strings.IndexByte(g, '('); i >= 0 {
			j := strings.IndexByte(g, ')')
			if j < i {
				return Signal{}, formatError("gain", "基线字段无效", "baseline in %q", f[2])
			}
			b, err := strconv.Atoi(g[i+1 : j])
			if err != nil {
				return Signal{}, formatError("gain", "基线字段无效", "baseline in %q", f[2])
			}
			sig.Baseline, baselineSet = b, true
			g = g[:i]
		}
		gain, err := strconv.ParseFloat(g, 64)
		if err != nil || !(gain > 0) || math.IsInf(gain, 0) {
			return Signal{}, formatError("gain", "增益无效(须为正的有限数)", "gain %q must be a positive finite number", f[2])
		}
		sig.Gain = gain
	}
	ints := []*int{&sig.ADCRes, &sig.ADCZero, &sig.InitValue, &sig.Checksum, &sig.BlockSize}
	for k, p := range ints {
		if len(f) <= 3+k {
			break
		}
		n, err := strconv.Atoi(f[3+k])
		if err != nil {
			return Signal{}, formatError("signal", "信号行数值字段无效", "field %d %q is not an integer", 4+k, f[3+k])
		}
		*p = n
		switch k {
		case 2:
			sig.HasInit = true
		case 3:
			sig.HasChecksum = true
		}
	}
	if len(f) > 8 {
		sig.Description = strings.Join(f[8:], " ")
	}
	if !baselineSet {
		sig.Baseline = sig.ADCZero
	}
	return sig, nil
}

// unitScale returns the factor that turns a physical value in units u into
// millivolts, and whether u is a voltage unit at all.
func unitScale(u string) (float64, bool) {
	switch strings.ToLower(u) {
	case "mv":
		return 1, true
	case "uv", "µv", "μv":
		return 1e-3, true
	case "v":
		return 1e3, true
	}
	return 1, false
}
