package datasets

import (
	"errors"
	"fmt"

	"github.com/yizhu-health/yizhu/clinic"
)

// ErrFormat is the sentinel under every malformed-input error:
// errors.Is(err, ErrFormat) tells a bad file from an I/O failure.
var ErrFormat = errors.New("malformed dataset")

// errTooLarge marks input past a Limits bound.
var errTooLarge = errors.New("size bound exceeded")

// ParseError locates a problem in an input file. Line is 1-based; when the
// reader only knows a byte offset, Line is 0 and Offset is set.
type ParseError struct {
	File   string
	Line   int
	Offset int64
	Err    error
	// syntax marks a JSON syntax error whose Offset only approximates the
	// position; ScanFile locates it exactly.
	syntax bool
}

// Error implements error as "file:line: message".
func (e *ParseError) Error() string {
	switch {
	case e.Line > 0:
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	case e.Offset > 0:
		return fmt.Sprintf("%s: byte %d: %v", e.File, e.Offset, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.File, e.Err)
}

// Unwrap returns the cause.
func (e *ParseError) Unwrap() error { return e.Err }

// badLine returns an invalid-input error at file:line.
func badLine(file string, line int, format string, args ...any) error {
	return wrapParse(&ParseError{File: file, Line: line, Err: fmt.Errorf("%w: %s", ErrFormat, fmt.Sprintf(format, args...))})
}

// badOffset returns an invalid-input error at a byte offset of file.
func badOffset(file string, off int64, format string, args ...any) error {
	return wrapParse(&ParseError{File: file, Offset: off, Err: fmt.Errorf("%w: %s", ErrFormat, fmt.Sprintf(format, args...))})
}

// tooLarge returns a too_large error at file:line (or offset).
func tooLarge(file string, line int, off int64, what string, bound int64) error {
	return wrapParse(&ParseError{File: file, Line: line, Offset: off, Err: fmt.Errorf("%w: %s exceeds %d", errTooLarge, what, bound)})
}

// wrapParse wraps pe in the boundary error with the code that fits its cause.
func wrapParse(pe *ParseError) error {
	if errors.Is(pe.Err, errTooLarge) {
		return clinic.Wrap(pe, clinic.CodeTooLarge, "dataset file exceeds a size bound", "数据集文件超过大小上限")
	}
	return clinic.Wrap(pe, clinic.CodeInvalid, "malformed dataset file", "数据集文件格式错误")
}

// parseErrorOf returns the *ParseError in err's chain, if any.
func parseErrorOf(err error) (*ParseError, bool) {
	return errors.AsType[*ParseError](err)
}
