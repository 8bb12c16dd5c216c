package api

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"

	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/inference/ecg"
)

// Stream message limits.
const (
	// MaxChunkSamples bounds the samples per lead of one chunk (4 s at
	// 1000 Hz).
	MaxChunkSamples = 4096
	// MaxStreamMessageBytes bounds one stream message, JSON or binary.
	MaxStreamMessageBytes = 1 << 20
	// maxSampleMV bounds a sample's magnitude: ECG amplifiers saturate far
	// below it, so a larger value is a unit error (µV sent as mV).
	maxSampleMV = 100
)

// Stream message types.
const (
	MsgStart = "start" // opens a stream: its ID, rate, leads, patient sex and age
	MsgChunk = "chunk" // the next samples of every lead
	MsgEnd   = "end"   // closes the stream
)

// StreamMessage is one message of a device's ECG stream, as JSON text on
// the WebSocket or in a NATS message. A stream is a start message, then
// chunks with sequence numbers 0, 1, 2, …, then an end message.
//
// A chunk may also come in the binary form (a WebSocket binary message,
// or a NATS message whose first two bytes are "EC"), little-endian:
//
//	offset size field
//	0      2    magic "EC"
//	2      1    version, 1
//	3      1    leads L (1–16, as in the start message)
//	4      4    seq, uint32
//	8      8    start, int64: sample index of the first sample, or -1 if unknown
//	16     2    samples per lead N (1–4096)
//	18     2    µV per unit (0 means 1)
//	20     2·L·N int16 samples, lead by lead; -32768 marks a missing sample
type StreamMessage struct {
	Type     string  `json:"type" validate:"required,oneof=start chunk end"`
	StreamID string  `json:"stream_id,omitempty" validate:"omitempty,max=64"`
	RateHz   float64 `json:"rate_hz,omitempty" validate:"omitempty,gte=125,lte=1000"`
	// Leads names the leads in the order of each chunk's samples.
	Leads    []string `json:"leads,omitempty" validate:"omitempty,min=1,max=16,dive,min=1,max=16"`
	Sex      string   `json:"sex,omitempty" validate:"omitempty,oneof=M F"`
	AgeYears *int     `json:"age,omitempty" validate:"omitempty,min=0,max=150"`
	MainsHz  float64  `json:"mains_hz,omitempty" validate:"omitempty,oneof=50 60"`
	// Seq numbers the chunks of a stream from 0; it is required in chunks.
	Seq *int64 `json:"seq,omitempty" validate:"omitempty,min=0"`
	// Start, when set, is the sample index of the chunk's first sample;
	// a gap before it is filled as missing signal (lead-off).
	Start *int64 `json:"start,omitempty" validate:"omitempty,min=0"`
	// Samples holds one array per lead, in mV, all of one length.
	Samples [][]float32 `json:"samples,omitempty" validate:"omitempty,max=16"`
}

var streamIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)

// ValidStreamID reports whether id may name a stream: 1–64 letters,
// digits, "_" and "-", starting with a letter or digit (it is also a NATS
// subject token).
func ValidStreamID(id string) bool { return streamIDPattern.MatchString(id) }

var binaryMagic = []byte("EC")

const binaryHeader = 20

func invalidChunk(field, en, zh string) error {
	return clinic.NewError(clinic.CodeInvalid, field, en, zh)
}

// DecodeStreamMessage decodes one stream message: binary when data starts
// with the binary magic, else strict JSON. It checks the message's shape —
// types, bounds, a stream ID pattern, finite samples, leads of equal
// length — but not its place in the stream. Errors are invalid (or
// too_large) *clinic.Error values naming the field; it never panics.
func DecodeStreamMessage(data []byte) (StreamMessage, error) {
	if len(data) > MaxStreamMessageBytes {
		return StreamMessage{}, clinic.NewError(clinic.CodeTooLarge, "message", "stream message too large", "数据消息过大")
	}
	if bytes.HasPrefix(data, binaryMagic) {
		return decodeBinaryChunk(data)
	}
	var m StreamMessage
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		fe := decodeReason(err)
		return m, invalidChunk(fe.Field, "malformed stream message: "+fe.ReasonEN, "数据消息格式错误："+fe.ReasonZH)
	}
	if dec.More() {
		return m, invalidChunk("message", "unexpected data after the JSON message", "JSON 消息之后有多余内容")
	}
	if err := ValidateStruct(echoValidator{v: streamValidator}, &m); err != nil {
		if ve, ok := errors.AsType[*validationError](err); ok && len(ve.fields) > 0 {
			f := ve.fields[0]
			return m, invalidChunk(f.Field, f.Field+" "+f.ReasonEN, f.Field+" "+f.ReasonZH)
		}
		return m, err
	}
	return m, m.check()
}

var streamValidator = NewValidator()

// check validates what the struct tags cannot express.
func (m *StreamMessage) check() error {
	if m.StreamID != "" && !ValidStreamID(m.StreamID) {
		return invalidChunk("stream_id", "stream_id must be 1–64 letters, digits, _ or -", "stream_id 须为 1–64 位字母、数字、_ 或 -")
	}
	switch m.Type {
	case MsgStart:
		if m.RateHz == 0 || len(m.Leads) == 0 {
			return invalidChunk("rate_hz", "a start message needs rate_hz and leads", "开始消息须含 rate_hz 与 leads")
		}
		if len(m.Samples) > 0 || m.Seq != nil {
			return invalidChunk("samples", "a start message carries no samples", "开始消息不能包含样本")
		}
	case MsgChunk:
		if m.Seq == nil {
			return invalidChunk("seq", "a chunk needs its sequence number seq", "数据块须含序号 seq")
		}
		if len(m.Samples) == 0 {
			return invalidChunk("samples", "a chunk needs samples", "数据块须含样本")
		}
		n := len(m.Samples[0])
		if n == 0 || n > MaxChunkSamples {
			return invalidChunk("samples", fmt.Sprintf("a chunk holds 1 to %d samples per lead", MaxChunkSamples), fmt.Sprintf("每导联样本数须为 1–%d", MaxChunkSamples))
		}
		for _, l := range m.Samples {
			if len(l) != n {
				return invalidChunk("samples", "chunk leads have different lengths", "数据块各导联长度不一致")
			}
			for _, v := range l {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) || v > maxSampleMV || v < -maxSampleMV {
					return invalidChunk("samples", "samples must be finite millivolts within ±100 mV", "样本须为 ±100 mV 以内的有限数值")
				}
			}
		}
	}
	return nil
}

func decodeBinaryChunk(b []byte) (StreamMessage, error) {
	if len(b) < binaryHeader {
		return StreamMessage{}, invalidChunk("message", "binary chunk shorter than its header", "二进制数据块不完整")
	}
	if b[2] != 1 {
		return StreamMessage{}, invalidChunk("version", "unsupported binary chunk version", "不支持的二进制数据块版本")
	}
	nlead := int(b[3])
	if nlead < 1 || nlead > ecg.MaxLeads {
		return StreamMessage{}, invalidChunk("leads", "binary chunk must have 1 to 16 leads", "二进制数据块导联数须为 1–16")
	}
	seq := int64(binary.LittleEndian.Uint32(b[4:]))
	start := int64(binary.LittleEndian.Uint64(b[8:]))
	n := int(binary.LittleEndian.Uint16(b[16:]))
	scale := float32(binary.LittleEndian.Uint16(b[18:]))
	if scale == 0 {
		scale = 1
	}
	if n < 1 || n > MaxChunkSamples {
		return StreamMessage{}, invalidChunk("samples", fmt.Sprintf("a chunk holds 1 to %d samples per lead", MaxChunkSamples), fmt.Sprintf("每导联样本数须为 1–%d", MaxChunkSamples))
	}
	if len(b) != binaryHeader+2*nlead*n {
		return StreamMessage{}, invalidChunk("samples", "binary chunk length does not match its header", "二进制数据块长度与头部不符")
	}
	if start < -1 {
		return StreamMessage{}, invalidChunk("start", "start must be a sample index or -1", "start 须为样本序号或 -1")
	}
	m := StreamMessage{Type: MsgChunk, Seq: &seq, Samples: make([][]float32, nlead)}
	if start >= 0 {
		m.Start = &start
	}
	nan := float32(math.NaN())
	flat := make([]float32, nlead*n)
	p := b[binaryHeader:]
	for i := range flat {
		v := int16(binary.LittleEndian.Uint16(p[2*i:]))
		if v == math.MinInt16 {
			flat[i] = nan
			continue
		}
		flat[i] = float32(v) * scale / 1000
	}
	for l := range nlead {
		m.Samples[l] = flat[l*n : (l+1)*n : (l+1)*n]
	}
	return m, nil
}

// EncodeBinaryChunk appends the binary form of a chunk to dst: samples[l]
// in mV, rounded to 1 µV and clipped to ±32.767 mV; NaN is sent as missing.
// start < 0 means unknown. It is the inverse of the binary branch of
// DecodeStreamMessage (a device-side reference implementation).
func EncodeBinaryChunk(dst []byte, seq uint32, start int64, samples [][]float32) []byte {
	n := 0
	if len(samples) > 0 {
		n = len(samples[0])
	}
	if start < 0 {
		start = -1
	}
	var h [binaryHeader]byte
	copy(h[:], binaryMagic)
	h[2] = 1
	h[3] = byte(len(samples))
	binary.LittleEndian.PutUint32(h[4:], seq)
	binary.LittleEndian.PutUint64(h[8:], uint64(start))
	binary.LittleEndian.PutUint16(h[16:], uint16(n))
	binary.LittleEndian.PutUint16(h[18:], 1)
	dst = append(dst, h[:]...)
	for _, l := range samples {
		for _, v := range l {
			var q int16
			switch {
			case math.IsNaN(float64(v)):
				q = math.MinInt16
			case v*1000 >= math.MaxInt16:
				q = math.MaxInt16
			case v*1000 <= -math.MaxInt16:
				q = -math.MaxInt16
			default:
				q = int16(math.Round(float64(v) * 1000))
			}
			dst = binary.LittleEndian.AppendUint16(dst, uint16(q))
		}
	}
	return dst
}
