package wfdb

import (
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"math"
	"path"
	"strings"

	"github.com/yizhu-health/yizhu/clinic"
)

// Record is a decoded record: one slice of samples per signal, all of the
// same length, in physical units (millivolts for voltage signals).
type Record struct {
	Name        string
	FrequencyHz float64
	// Leads holds the signal descriptions (Description is the lead name).
	Leads []Lead
	// Samples[i] are the samples of Leads[i].
	Samples  [][]float32
	Comments []string
}

// Lead describes one signal of a Record.
type Lead struct {
	Name string
	// Units is "mV" for voltage signals (converted), else the header's
	// unit string (e.g. "NU").
	Units string
	// Voltage reports whether the signal is an electrical potential.
	Voltage bool
}

// Len returns the number of samples per lead.
func (r *Record) Len() int {
	if len(r.Samples) == 0 {
		return 0
	}
	return len(r.Samples[0])
}

// ReadRecord reads the header at name (a path in fsys, with or without the
// ".hea" suffix) and its signal files, which are looked up in the header's
// directory. Each signal is checked against the header's initial value
// and checksum. Signal files ending in ".mat" must be MATLAB v4 files whose
// matrix matches the header (challenge format).
func ReadRecord(fsys fs.FS, name string) (*Record, error) {
	if !strings.HasSuffix(name, ".hea") {
		name += ".hea"
	}
	hf, err := fsys.Open(name)
	if err != nil {
		return nil, openError(name, err)
	}
	h, err := ParseHeader(hf)
	hf.Close()
	if err != nil {
		return nil, err
	}
	return ReadSignals(fsys, path.Dir(name), h)
}

func openError(name string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return &clinic.Error{Code: clinic.CodeNotFound, Field: "record", Message: "file " + name + " not found", MessageZH: "未找到心电记录文件", Err: err}
	}
	return &clinic.Error{Code: clinic.CodeInvalid, Field: "record", Message: "cannot open " + name, MessageZH: "无法打开心电记录文件", Err: err}
}

// ReadSignals decodes the signal files of h found in directory dir of fsys.
func ReadSignals(fsys fs.FS, dir string, h *Header) (*Record, error) {
	rec := &Record{Name: h.Name, FrequencyHz: h.FrequencyHz, Comments: h.Comments}
	rec.Samples = make([][]float32, len(h.Signals))
	rec.Leads = make([]Lead, len(h.Signals))
	// Group the signals by file, in order of first appearance.
	done := make([]bool, len(h.Signals))
	for i := range h.Signals {
		if done[i] {
			continue
		}
		var group []int
		for j := i; j < len(h.Signals); j++ {
			if h.Signals[j].FileName == h.Signals[i].FileName {
				group = append(group, j)
				done[j] = true
			}
		}
		if err := readFile(fsys, dir, h, group, rec); err != nil {
			return nil, err
		}
	}
	n := -1
	for i, s := range rec.Samples {
		if n >= 0 && len(s) != n {
			return nil, formatError("signal", "各信号文件长度不一致", "signal %d has %d samples, signal 0 has %d", i, len(s), n)
		}
		n = len(s)
	}
	if h.NumSamples > 0 && n != h.NumSamples {
		return nil, formatError("signal", "信号文件被截断或长度不符", "signal files hold %d samples per signal, header says %d (truncated?)", n, h.NumSamples)
	}
	if n == 0 {
		return nil, formatError("signal", "信号为空", "record has no samples")
	}
	return rec, nil
}

func readFile(fsys fs.FS, dir string, h *Header, group []int, rec *Record) error {
	first := h.Signals[group[0]]
	for _, j := range group[1:] {
		s := h.Signals[j]
		if s.Format != first.Format || s.ByteOffset != first.ByteOffset {
			return formatError("format", "同一文件内格式不一致", "signals in %s disagree on format or byte offset", first.FileName)
		}
	}
	name := path.Join(dir, first.FileName)
	f, err := fsys.Open(name)
	if err != nil {
		return openError(name, err)
	}
	defer f.Close()
	limit := int64(MaxSamples)*4 + first.ByteOffset + 1
	data, err := io.ReadAll(io.LimitReader(f, limit))
	if err != nil {
		return formatError("signal", "无法读取信号文件", "read %s: %v", name, err)
	}
	if int64(len(data)) >= limit {
		return tooLarge("signal", "signal file %s exceeds the sample bound", name)
	}
	if strings.HasSuffix(strings.ToLower(first.FileName), ".mat") {
		if err := checkMat(data, first, len(group), h.NumSamples); err != nil {
			return err
		}
	}
	if first.ByteOffset > int64(len(data)) {
		return formatError("signal", "信号文件被截断", "%s: byte offset %d beyond file size %d", name, first.ByteOffset, len(data))
	}
	data = data[first.ByteOffset:]
	digital, invalid, err := decode(data, first.Format, len(group))
	if err != nil {
		return formatError("signal", "信号文件格式错误", "%s: %v", name, err)
	}
	nsig := len(group)
	frames := len(digital) / nsig
	if h.NumSamples > 0 {
		if frames < h.NumSamples {
			return formatError("signal", "信号文件被截断", "%s holds %d frames, header says %d (truncated)", name, frames, h.NumSamples)
		}
		frames = h.NumSamples
	}
	if int64(frames)*int64(len(h.Signals)) > MaxSamples {
		return tooLarge("signal", "%s: %d frames exceed the sample bound", name, frames)
	}
	for k, si := range group {
		s := h.Signals[si]
		scale, volt := unitScale(s.Units)
		units := s.Units
		if volt {
			units = "mV"
		}
		rec.Leads[si] = Lead{Name: s.Description, Units: units, Voltage: volt}
		out := make([]float32, frames)
		var sum int64
		for t := range frames {
			d := digital[t*nsig+k]
			sum += int64(d)
			if t == 0 && s.HasInit && d != int32(s.InitValue) {
				return formatError("signal", "信号初值与头文件不符", "%s signal %d: first sample %d, header initial value %d", name, si, d, s.InitValue)
			}
			if d == invalid {
				out[t] = float32(math.NaN())
				continue
			}
			out[t] = float32((float64(d) - float64(s.Baseline)) / s.Gain * scale)
		}
		if s.HasChecksum && int16(sum) != int16(s.Checksum) {
			return formatError("checksum", "信号校验和错误", "%s signal %d: checksum %d, header says %d", name, si, int16(sum), s.Checksum)
		}
		rec.Samples[si] = out
	}
	return nil
}

// decode turns the bytes of a signal file into interleaved digital samples
// and returns the format's invalid-sample value. A trailing partial frame
// is dropped; a partial sample is an error only when it is not padding.
func decode(b []byte, format, nsig int) ([]int32, int32, error) {
	var out []int32
	var invalid int32
	switch format {
	case 212:
		invalid = -2048
		n := len(b) / 3 * 2
		if len(b)%3 == 2 {
			n++ // a final odd sample in two bytes
		}
		out = make([]int32, 0, n)
		for i := 0; i+1 < len(b); i += 3 {
			s0 := int32(b[i]) | int32(b[i+1]&0x0f)<<8
			out = append(out, signExtend(s0, 12))
			if i+2 < len(b) {
				s1 := int32(b[i+2]) | int32(b[i+1]&0xf0)<<4
				out = append(out, signExtend(s1, 12))
			}
		}
	case 16:
		invalid = -32768
		out = make([]int32, len(b)/2)
		for i := range out {
			out[i] = int32(int16(binary.LittleEndian.Uint16(b[2*i:])))
		}
	case 61:
		invalid = -32768
		out = make([]int32, len(b)/2)
		for i := range out {
			out[i] = int32(int16(binary.BigEndian.Uint16(b[2*i:])))
		}
	case 80:
		invalid = -128
		out = make([]int32, len(b))
		for i, v := range b {
			out[i] = int32(v) - 128
		}
	case 24:
		invalid = -1 << 23
		out = make([]int32, len(b)/3)
		for i := range out {
			v := int32(b[3*i]) | int32(b[3*i+1])<<8 | int32(b[3*i+2])<<16
			out[i] = signExtend(v, 24)
		}
	case 32:
		invalid = math.MinInt32
		out = make([]int32, len(b)/4)
		for i := range out {
			out[i] = int32(binary.LittleEndian.Uint32(b[4*i:]))
		}
	default:
		return nil, 0, errors.New("unsupported format")
	}
	return out[:len(out)/nsig*nsig], invalid, nil
}

func signExtend(v int32, bits uint) int32 {
	shift := 32 - bits
	return v << shift >> shift
}

// checkMat validates the MATLAB v4 matrix header at the start of a
// challenge .mat file: little-endian, full, real, int16 (P = 3) for format
// 16, rows = signals in the file, columns = samples, and data starting at
// the header's byte offset. Layout (MATLAB v4 MAT-file format): five int32
// (type MOPT, rows, cols, imagf, namlen), then the name, then column-major
// data, so each column is one frame.
func checkMat(b []byte, s Signal, nsig, nsamp int) error {
	if len(b) < 20 {
		return formatError("signal", ".mat 文件头被截断", ".mat header truncated (%d bytes)", len(b))
	}
	typ := binary.LittleEndian.Uint32(b[0:])
	rows := binary.LittleEndian.Uint32(b[4:])
	cols := binary.LittleEndian.Uint32(b[8:])
	imagf := binary.LittleEndian.Uint32(b[12:])
	namlen := binary.LittleEndian.Uint32(b[16:])
	if typ >= 1000 || imagf != 0 || typ%10 != 0 {
		return formatError("signal", "不支持的 .mat 文件(须为小端实数全矩阵 MATLAB v4)", ".mat type %d imagf %d: want a little-endian real full MATLAB v4 matrix", typ, imagf)
	}
	p := typ / 10 % 10
	want := map[int]uint32{16: 3, 32: 2}[s.Format]
	if want == 0 || p != want {
		return formatError("signal", ".mat 数据类型与头文件格式不符", ".mat precision code %d does not match format %d", p, s.Format)
	}
	if int(rows) != nsig || (nsamp > 0 && int(cols) != nsamp) {
		return formatError("signal", ".mat 矩阵尺寸与头文件不符", ".mat matrix is %d×%d, header says %d×%d", rows, cols, nsig, nsamp)
	}
	if int64(20)+int64(namlen) != s.ByteOffset {
		return formatError("signal", ".mat 数据偏移与头文件不符", ".mat data starts at %d, header byte offset is %d", 20+int64(namlen), s.ByteOffset)
	}
	return nil
}
