package clinic

import (
	"errors"
	"fmt"
)

// Code is a stable, machine-readable error kind. The list is append-only:
// do not reorder or remove items.
type Code string

// Error codes. api/errors.go maps each to an HTTP status.
const (
	CodeInvalid      Code = "invalid"      // the input is malformed or breaks a rule
	CodeNotFound     Code = "not_found"    // the thing asked for does not exist
	CodeConflict     Code = "conflict"     // a stale version or a duplicate
	CodeUnauthorized Code = "unauthorized" // no or bad credentials
	CodeForbidden    Code = "forbidden"    // credentials lack the role
	CodeUnavailable  Code = "unavailable"  // a dependency is down or timed out
	CodeTooLarge     Code = "too_large"    // the input exceeds a size bound
	CodeInternal     Code = "internal"     // a bug or an unexpected failure
)

// Error is the boundary error: a code, the field it concerns (if any) and a
// message in English and Chinese meant for the user. Err is the cause, kept
// for logs and errors.Is/As, never shown to users.
type Error struct {
	Code      Code
	Field     string
	Message   string // English
	MessageZH string // 中文
	Err       error
}

// Error implements error.
func (e *Error) Error() string {
	var s string
	if e.Field != "" {
		s = fmt.Sprintf("%s: %s: %s", e.Code, e.Field, e.Message)
	} else {
		s = fmt.Sprintf("%s: %s", e.Code, e.Message)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and an English message. The
// Chinese message defaults to a generic phrase for the code; use [NewError]
// to give both.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), MessageZH: codeZH[code]}
}

// NewError returns an *Error for field with messages in both languages.
func NewError(code Code, field, en, zh string) *Error {
	return &Error{Code: code, Field: field, Message: en, MessageZH: zh}
}

// Wrap returns an *Error with the given code and messages whose cause is err.
func Wrap(err error, code Code, en, zh string) *Error {
	return &Error{Code: code, Message: en, MessageZH: zh, Err: err}
}

var codeZH = map[Code]string{
	CodeInvalid:      "输入无效",
	CodeNotFound:     "未找到",
	CodeConflict:     "版本冲突或重复",
	CodeUnauthorized: "未认证",
	CodeForbidden:    "无权访问",
	CodeUnavailable:  "服务暂不可用",
	CodeTooLarge:     "内容过大",
	CodeInternal:     "内部错误",
}

// ErrorCode returns the code of the first *Error in err's chain, or
// CodeInternal for any other non-nil error, or "" for nil.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Code
	}
	return CodeInternal
}

// ErrorMessages returns the user-facing English and Chinese messages of err:
// those of its first *Error, or generic internal-error phrases.
func ErrorMessages(err error) (en, zh string) {
	if e, ok := errors.AsType[*Error](err); ok {
		zh = e.MessageZH
		if zh == "" {
			zh = codeZH[e.Code]
		}
		return e.Message, zh
	}
	return "internal error", codeZH[CodeInternal]
}
