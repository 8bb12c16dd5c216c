package datasets

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/yizhu-health/yizhu/clinic"
)

// Limits bound what a scanner accepts. The zero value of a field means its
// default.
type Limits struct {
	// MaxFileBytes bounds the bytes read from one input (default 1 GiB).
	MaxFileBytes int64
	// MaxLineBytes bounds one line of a JSON-lines file (default 16 MiB).
	MaxLineBytes int
	// MaxRecords bounds the records of one input (default 10,000,000).
	MaxRecords int
	// MaxFieldBytes bounds one text field or JSON value (default 16 MiB).
	MaxFieldBytes int
}

// Default bounds.
const (
	DefaultMaxFileBytes  = 1 << 30
	DefaultMaxLineBytes  = 16 << 20
	DefaultMaxRecords    = 10_000_000
	DefaultMaxFieldBytes = 16 << 20
)

func (l Limits) withDefaults() Limits {
	if l.MaxFileBytes <= 0 {
		l.MaxFileBytes = DefaultMaxFileBytes
	}
	if l.MaxLineBytes <= 0 {
		l.MaxLineBytes = DefaultMaxLineBytes
	}
	if l.MaxRecords <= 0 {
		l.MaxRecords = DefaultMaxRecords
	}
	if l.MaxFieldBytes <= 0 {
		l.MaxFieldBytes = DefaultMaxFieldBytes
	}
	return l
}

// ScanFunc streams the records of one format from r, calling fn once per
// record in input order. name is used in error messages (a path or a
// label). Scanning stops at the first error, from the input or from fn;
// an error from fn is returned unchanged.
type ScanFunc[T any] func(r io.Reader, name string, lim Limits, fn func(T) error) error

// ReadAll collects every record scan finds in r.
func ReadAll[T any](scan ScanFunc[T], r io.Reader, name string, lim Limits) ([]T, error) {
	var out []T
	err := scan(r, name, lim, func(v T) error {
		out = append(out, v)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ScanFile opens path and scans it. Errors located only by byte offset
// are converted to file:line by re-reading the file up to the offset.
func ScanFile[T any](scan ScanFunc[T], path string, lim Limits, fn func(T) error) error {
	f, err := os.Open(path)
	if err != nil {
		return clinic.Wrap(err, clinic.CodeNotFound, "dataset file cannot be opened", "无法打开数据集文件")
	}
	defer f.Close()
	err = scan(f, path, lim, fn)
	if pe, ok := parseErrorOf(err); ok && pe.Line == 0 && pe.Offset > 0 {
		if pe.syntax {
			if off, ok := syntaxOffset(path, lim); ok {
				pe.Offset = off
			}
		}
		if line, lerr := lineAt(path, pe.Offset); lerr == nil {
			pe.Line = line
		}
	}
	return err
}

// syntaxOffset re-reads a JSON file whole (within lim.MaxFileBytes) and
// returns the offset of its first syntax error, which json.Unmarshal
// reports as a position in the bytes.
func syntaxOffset(path string, lim Limits) (int64, bool) {
	lim = lim.withDefaults()
	f, err := os.Open(path)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, lim.MaxFileBytes))
	if err != nil {
		return 0, false
	}
	data = bytes.TrimPrefix(data, bom)
	var raw json.RawMessage
	if se, ok := errors.AsType[*json.SyntaxError](json.Unmarshal(data, &raw)); ok {
		// Offset counts the bytes read up to and including the bad one.
		return max(se.Offset-1, 1), true
	}
	return 0, false
}

// ReadFile collects every record scan finds in the file at path.
func ReadFile[T any](scan ScanFunc[T], path string, lim Limits) ([]T, error) {
	var out []T
	err := ScanFile(scan, path, lim, func(v T) error {
		out = append(out, v)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// lineAt returns the 1-based line holding byte off of the file after a
// leading UTF-8 byte-order mark (the scanners skip it).
func lineAt(path string, off int64) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	br := bufio.NewReader(f)
	if b, err := br.Peek(3); err == nil && bytes.Equal(b, bom) {
		_, _ = br.Discard(3)
	}
	line := 1
	buf := make([]byte, 32<<10)
	for off > 0 {
		n, err := br.Read(buf[:min(int64(len(buf)), off)])
		line += bytes.Count(buf[:n], []byte{'\n'})
		off -= int64(n)
		if err != nil {
			break
		}
	}
	return line, nil
}

var bom = []byte{0xEF, 0xBB, 0xBF}

// boundedReader returns r without a leading byte-order mark, failing with
// errTooLarge past max bytes.
func boundedReader(r io.Reader, max int64) *bufio.Reader {
	br := bufio.NewReaderSize(&limitReader{r: r, left: max, max: max}, 64<<10)
	if b, err := br.Peek(3); err == nil && bytes.Equal(b, bom) {
		_, _ = br.Discard(3)
	}
	return br
}

type limitReader struct {
	r         io.Reader
	left, max int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		// Probe one byte: input of exactly max bytes is fine.
		var one [1]byte
		n, err := l.r.Read(one[:])
		if n > 0 {
			return 0, fmt.Errorf("%w: input exceeds %d bytes", errTooLarge, l.max)
		}
		return 0, err
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}

// counter enforces Limits.MaxRecords.
type counter struct {
	name string
	n    int
	max  int
}

func (c *counter) next(line int, off int64) error {
	c.n++
	if c.n > c.max {
		return tooLarge(c.name, line, off, "record count", int64(c.max))
	}
	return nil
}

// scanLines calls fn for each non-blank line of r with its 1-based number.
// Lines longer than lim.MaxLineBytes are too_large.
func scanLines(r io.Reader, name string, lim Limits, fn func(line int, b []byte) error) error {
	lim = lim.withDefaults()
	sc := bufio.NewScanner(boundedReader(r, lim.MaxFileBytes))
	// The initial buffer must not exceed the bound: bufio.Scanner accepts
	// tokens up to the larger of the two.
	sc.Buffer(make([]byte, 0, min(64<<10, lim.MaxLineBytes)), lim.MaxLineBytes)
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		if err := fn(line, b); err != nil {
			return err
		}
	}
	switch err := sc.Err(); {
	case err == nil:
		return nil
	case errors.Is(err, bufio.ErrTooLong):
		return tooLarge(name, line+1, 0, "line length", int64(lim.MaxLineBytes))
	case errors.Is(err, errTooLarge):
		return tooLarge(name, line+1, 0, "file size", lim.MaxFileBytes)
	default:
		return fmt.Errorf("datasets: read %s: %w", name, err)
	}
}

// scanJSONLines decodes each non-blank line of r into a T. With strict
// set, unknown fields are errors (for Yizhu's own formats).
func scanJSONLines[T any](r io.Reader, name string, lim Limits, strict bool, fn func(line int, v *T) error) error {
	lim = lim.withDefaults()
	c := counter{name: name, max: lim.MaxRecords}
	return scanLines(r, name, lim, func(line int, b []byte) error {
		if err := c.next(line, 0); err != nil {
			return err
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		if strict {
			dec.DisallowUnknownFields()
		}
		var v T
		if err := dec.Decode(&v); err != nil {
			return badLine(name, line, "%s", jsonMessage(err))
		}
		if dec.More() {
			return badLine(name, line, "more than one JSON value on the line")
		}
		return fn(line, &v)
	})
}

// scanJSONArray decodes the elements of a top-level JSON array one at a
// time. fn gets each element and the byte offset where it starts.
func scanJSONArray[T any](r io.Reader, name string, lim Limits, fn func(off int64, v *T) error) error {
	lim = lim.withDefaults()
	dec := json.NewDecoder(boundedReader(r, lim.MaxFileBytes))
	c := counter{name: name, max: lim.MaxRecords}
	if err := expectDelim(dec, name, '['); err != nil {
		return err
	}
	for dec.More() {
		var v T
		start, err := decodeValue(dec, name, lim, &c, &v)
		if err != nil {
			return err
		}
		if err := fn(start, &v); err != nil {
			return err
		}
	}
	if err := expectDelim(dec, name, ']'); err != nil {
		return err
	}
	return expectEOF(dec, name, lim)
}

// decodeValue reads the next JSON value from dec into v and returns the
// byte offset where it starts. It reads the raw bytes first, so that a
// type error can be located exactly (json.Unmarshal reports offsets into
// the bytes it is given); a syntax error is marked for ScanFile to locate
// by re-reading the file.
func decodeValue[T any](dec *json.Decoder, name string, lim Limits, c *counter, v *T) (int64, error) {
	before := dec.InputOffset()
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return 0, jsonError(name, before, err, lim)
	}
	end := dec.InputOffset()
	start := end - int64(len(raw))
	if err := c.next(0, max(start, 1)); err != nil {
		return 0, err
	}
	if len(raw) > lim.MaxFieldBytes {
		return 0, tooLarge(name, 0, max(start, 1), "record size", int64(lim.MaxFieldBytes))
	}
	if err := json.Unmarshal(raw, v); err != nil {
		off := start
		if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
			off += te.Offset
		}
		return 0, badOffset(name, max(off, 1), "%s", jsonMessage(err))
	}
	return start, nil
}

func expectDelim(dec *json.Decoder, name string, want json.Delim) error {
	off := dec.InputOffset()
	tok, err := dec.Token()
	if err != nil {
		return jsonError(name, off, err, Limits{}.withDefaults())
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return badOffset(name, max(off, 1), "want %q, found %v", string(want), tok)
	}
	return nil
}

func expectEOF(dec *json.Decoder, name string, lim Limits) error {
	off := dec.InputOffset()
	if _, err := dec.Token(); err != io.EOF {
		if err != nil {
			return jsonError(name, off, err, lim)
		}
		// The offset just past the stray token locates it.
		return badOffset(name, max(dec.InputOffset()-1, 1), "data after the end of the top-level value")
	}
	return nil
}

// jsonError turns a decoding error of the value after offset off into a
// located boundary error. The offsets encoding/json's Decoder gives for
// syntax errors are not positions in the input, so a syntax error is
// placed at off and marked for ScanFile to locate exactly.
func jsonError(name string, off int64, err error, lim Limits) error {
	if errors.Is(err, errTooLarge) {
		return tooLarge(name, 0, max(off, 1), "file size", lim.MaxFileBytes)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return badOffset(name, max(off, 1), "unexpected end of input")
	}
	pe := &ParseError{File: name, Offset: max(off, 1), Err: fmt.Errorf("%w: %s", ErrFormat, jsonMessage(err))}
	if _, ok := errors.AsType[*json.SyntaxError](err); ok {
		pe.syntax = true
	}
	return wrapParse(pe)
}

// jsonMessage rephrases encoding/json errors without Go type names.
func jsonMessage(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := te.Field
		if field == "" {
			field = "value"
		}
		return fmt.Sprintf("field %q: JSON %s where %s was expected", field, te.Value, te.Type.Kind())
	}
	return err.Error()
}
