package wfdb

import (
	"errors"
	"fmt"

	"github.com/yizhu-health/yizhu/clinic"
)

// ErrFormat is the cause of every error about malformed or unsupported
// input; callers branch on it with errors.Is.
var ErrFormat = errors.New("wfdb: bad format")

// Bounds on what the readers accept.
const (
	// MaxSamples bounds the samples of one record over all signals
	// (2^26, about 31 min of 12 leads at 500 Hz).
	MaxSamples = 1 << 26
	// MaxSignals bounds the signals of one record.
	MaxSignals = 64
	// MaxHeaderBytes bounds a header file.
	MaxHeaderBytes = 1 << 20
	// MinRateHz and MaxRateHz bound the sampling rates the ECG core
	// supports (issue 4: any rate from 125 to 1000 Hz).
	MinRateHz = 125
	MaxRateHz = 1000
)

// formatError returns an invalid *clinic.Error whose cause wraps ErrFormat.
func formatError(field, zh, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	return &clinic.Error{
		Code:      clinic.CodeInvalid,
		Field:     field,
		Message:   msg,
		MessageZH: zh,
		Err:       fmt.Errorf("%w: %s", ErrFormat, msg),
	}
}

func tooLarge(field, format string, args ...any) error {
	return &clinic.Error{
		Code:      clinic.CodeTooLarge,
		Field:     field,
		Message:   fmt.Sprintf(format, args...),
		MessageZH: "心电记录过大",
	}
}
