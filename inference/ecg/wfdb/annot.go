package wfdb

import (
	"encoding/binary"
	"io"
)

// Annotation is one entry of an MIT-format annotation file.
type Annotation struct {
	// Sample is the time of the annotation as a sample index.
	Sample int64
	// Code is the annotation code (1 = normal beat, …; see Code*).
	Code int
	// Symbol is the one-character mnemonic of Code ("N", "V", "+", …).
	Symbol string
	Sub    int
	Chan   int
	Num    int
	// Aux is the auxiliary text; rhythm annotations ("+") carry the rhythm
	// here, e.g. "(AFIB", "(N", "(VT".
	Aux string
}

// Annotation codes used by the ECG core (annot(5), WFDB ecgcodes.h).
const (
	CodeNormal  = 1  // N
	CodePVC     = 5  // V
	CodeAPC     = 8  // A
	CodeUnknown = 13 // Q
	CodeNoise   = 14 // ~
	CodeRhythm  = 28 // +
)

// Pseudo-annotation codes of the MIT format.
const (
	codeSkip = 59
	codeNum  = 60
	codeSub  = 61
	codeChn  = 62
	codeAux  = 63
)

// symbols holds the mnemonic of each code 0–41 (annot(5)).
var symbols = [...]string{
	"", "N", "L", "R", "a", "V", "F", "J", "A", "S", "E", "j", "/", "Q", "~", "", "|", "", "s", "T",
	"*", "D", "\"", "=", "p", "B", "^", "t", "+", "u", "?", "!", "[", "]", "e", "n", "@", "x", "f", "(",
	")", "r",
}

// Symbol returns the mnemonic of code, or "" for an unknown code.
func Symbol(code int) string {
	if code >= 0 && code < len(symbols) {
		return symbols[code]
	}
	return ""
}

// IsBeat reports whether code labels a QRS complex (the WFDB isqrs table:
// N L R a V F J A S E j / Q B ? e n f r). Non-beat annotations (rhythm
// changes, noise, comments, wave boundaries) are not counted in detection
// statistics (ANSI/AAMI EC57).
func IsBeat(code int) bool {
	switch code {
	case 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 25, 30, 34, 35, 38, 41:
		return true
	}
	return false
}

// AAMIClass maps a beat code to its ANSI/AAMI EC57 class: "N" (N L R e j),
// "S" (A a J S), "V" (V E), "F" (F) or "Q" (/ f Q and the rest); "" for a
// non-beat code.
func AAMIClass(code int) string {
	switch code {
	case 1, 2, 3, 34, 11:
		return "N"
	case 8, 4, 7, 9, 35:
		return "S"
	case 5, 10, 41:
		return "V"
	case 6:
		return "F"
	}
	if IsBeat(code) {
		return "Q"
	}
	return ""
}

// MaxAnnotations bounds the annotations of one file.
const MaxAnnotations = 1 << 22

// ReadAnnotations decodes an MIT-format annotation file: little-endian
// 16-bit words whose top 6 bits are the code and low 10 bits the sample
// increment, with SKIP (a 32-bit increment in PDP-11 word order), NUM, SUB,
// CHN and AUX (length-prefixed text, padded to even length) modifiers that
// apply to the preceding annotation; NUM and CHN carry over to later ones.
// A zero word ends the file.
func ReadAnnotations(r io.Reader) ([]Annotation, error) {
	data, err := io.ReadAll(io.LimitReader(r, 4*MaxAnnotations+1))
	if err != nil {
		return nil, formatError("annotations", "无法读取注释文件", "read annotations: %v", err)
	}
	if len(data) > 4*MaxAnnotations {
		return nil, tooLarge("annotations", "annotation file exceeds %d bytes", 4*MaxAnnotations)
	}
	var (
		out       []Annotation
		t         int64
		num, chn  int
		pendingDt int64
	)
	for i := 0; ; {
		if i == len(data) {
			break // files without the terminating zero word are accepted
		}
		if i+2 > len(data) {
			return nil, formatError("annotations", "注释文件被截断", "truncated word at byte %d", i)
		}
		w := binary.LittleEndian.Uint16(data[i:])
		i += 2
		if w == 0 {
			break
		}
		code := int(w >> 10)
		val := int(w & 0x3ff)
		switch code {
		case codeSkip:
			if i+4 > len(data) {
				return nil, formatError("annotations", "注释文件被截断", "truncated SKIP at byte %d", i)
			}
			hi := int32(binary.LittleEndian.Uint16(data[i:]))
			lo := int32(binary.LittleEndian.Uint16(data[i+2:]))
			pendingDt += int64(hi<<16 | lo)
			i += 4
		case codeNum:
			num = signExtend10(val)
			if len(out) > 0 {
				out[len(out)-1].Num = num
			}
		case codeSub:
			if len(out) == 0 {
				return nil, formatError("annotations", "注释修饰符前无注释", "SUB before any annotation")
			}
			out[len(out)-1].Sub = signExtend10(val)
		case codeChn:
			chn = val
			if len(out) > 0 {
				out[len(out)-1].Chan = chn
			}
		case codeAux:
			n := val
			if i+n > len(data) {
				return nil, formatError("annotations", "注释文件被截断", "truncated AUX of %d bytes at byte %d", n, i)
			}
			if len(out) == 0 {
				return nil, formatError("annotations", "注释修饰符前无注释", "AUX before any annotation")
			}
			aux := data[i : i+n]
			for len(aux) > 0 && aux[len(aux)-1] == 0 {
				aux = aux[:len(aux)-1]
			}
			out[len(out)-1].Aux = string(aux)
			i += n + n&1
			if i > len(data) {
				i = len(data)
			}
		default:
			if code == 0 || code > 49 {
				return nil, formatError("annotations", "注释代码无效", "annotation code %d at byte %d", code, i-2)
			}
			t += pendingDt + int64(val)
			pendingDt = 0
			if t < 0 {
				return nil, formatError("annotations", "注释时间为负", "negative annotation time %d", t)
			}
			if len(out) >= MaxAnnotations {
				return nil, tooLarge("annotations", "more than %d annotations", MaxAnnotations)
			}
			out = append(out, Annotation{Sample: t, Code: code, Symbol: Symbol(code), Num: num, Chan: chn})
		}
	}
	return out, nil
}

func signExtend10(v int) int {
	if v&0x200 != 0 {
		return v - 0x400
	}
	return v
}

// RhythmEpisode is a stretch of one rhythm taken from the "+" annotations.
type RhythmEpisode struct {
	// Start and End are sample indices, End exclusive.
	Start, End int64
	// Rhythm is the aux string without the leading "(", e.g. "AFIB", "N".
	Rhythm string
}

// Rhythms turns the rhythm-change annotations into episodes; the last
// episode ends at recordLen.
func Rhythms(anns []Annotation, recordLen int64) []RhythmEpisode {
	var out []RhythmEpisode
	for _, a := range anns {
		if a.Code != CodeRhythm || a.Aux == "" {
			continue
		}
		name := a.Aux
		if name[0] == '(' {
			name = name[1:]
		}
		if len(out) > 0 {
			out[len(out)-1].End = a.Sample
		}
		out = append(out, RhythmEpisode{Start: a.Sample, End: recordLen, Rhythm: name})
	}
	return out
}
