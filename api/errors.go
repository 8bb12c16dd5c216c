package api

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/yizhu-health/yizhu/clinic"
)

// statusOf is the only clinic.Code → HTTP status table.
var statusOf = map[clinic.Code]int{
	clinic.CodeInvalid:      http.StatusBadRequest,
	clinic.CodeNotFound:     http.StatusNotFound,
	clinic.CodeConflict:     http.StatusConflict,
	clinic.CodeUnauthorized: http.StatusUnauthorized,
	clinic.CodeForbidden:    http.StatusForbidden,
	clinic.CodeUnavailable:  http.StatusServiceUnavailable,
	clinic.CodeTooLarge:     http.StatusRequestEntityTooLarge,
	clinic.CodeInternal:     http.StatusInternalServerError,
}

// codeOfStatus maps statuses produced by Echo itself back to codes.
var codeOfStatus = map[int]clinic.Code{
	http.StatusBadRequest:            clinic.CodeInvalid,
	http.StatusNotFound:              clinic.CodeNotFound,
	http.StatusMethodNotAllowed:      clinic.CodeNotFound,
	http.StatusConflict:              clinic.CodeConflict,
	http.StatusUnauthorized:          clinic.CodeUnauthorized,
	http.StatusForbidden:             clinic.CodeForbidden,
	http.StatusRequestEntityTooLarge: clinic.CodeTooLarge,
	http.StatusServiceUnavailable:    clinic.CodeUnavailable,
	http.StatusTooManyRequests:       clinic.CodeUnavailable,
}

// FieldError is one invalid field of a request, explained in both languages.
type FieldError struct {
	Field    string `json:"field"`
	ReasonZH string `json:"reason_zh"`
	ReasonEN string `json:"reason_en"`
}

// ErrorBody is the JSON body of every error response.
type ErrorBody struct {
	Error     ErrorDetail `json:"error"`
	RequestID string      `json:"request_id,omitempty"`
}

// ErrorDetail describes an error to the user.
type ErrorDetail struct {
	Code      clinic.Code  `json:"code"`
	Message   string       `json:"message"`
	MessageZH string       `json:"message_zh"`
	Fields    []FieldError `json:"fields,omitempty"`
}

// validationError carries per-field errors through Echo's error path.
type validationError struct {
	fields []FieldError
}

func (e *validationError) Error() string {
	s := "invalid request"
	for _, f := range e.fields {
		s += "; " + f.Field + ": " + f.ReasonEN
	}
	return s
}

// errorHandler returns Echo's HTTPErrorHandler: it maps err to a status and
// an ErrorBody, and logs internal causes.
func errorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		status, body := errorResponse(err)
		body.RequestID = c.Response().Header().Get(echo.HeaderXRequestID)
		if status >= 500 {
			log.ErrorContext(c.Request().Context(), "request failed",
				"request_id", body.RequestID, "path", c.Path(), "code", body.Error.Code, "err", err)
		}
		if c.Request().Method == http.MethodHead {
			_ = c.NoContent(status)
			return
		}
		_ = c.JSON(status, body)
	}
}

func errorResponse(err error) (int, ErrorBody) {
	if ve, ok := errors.AsType[*validationError](err); ok {
		return http.StatusBadRequest, ErrorBody{Error: ErrorDetail{
			Code: clinic.CodeInvalid, Message: "invalid request", MessageZH: "请求参数无效", Fields: ve.fields,
		}}
	}
	if ce, ok := errors.AsType[*clinic.Error](err); ok {
		en, zh := clinic.ErrorMessages(ce)
		d := ErrorDetail{Code: ce.Code, Message: en, MessageZH: zh}
		if ce.Code == clinic.CodeInternal {
			d.Message, d.MessageZH = "internal error", "内部错误"
		}
		if ce.Field != "" {
			d.Fields = []FieldError{{Field: ce.Field, ReasonEN: en, ReasonZH: zh}}
		}
		status, ok := statusOf[ce.Code]
		if !ok {
			status = http.StatusInternalServerError
		}
		return status, ErrorBody{Error: d}
	}
	if he, ok := errors.AsType[*echo.HTTPError](err); ok {
		code, ok := codeOfStatus[he.Code]
		if !ok {
			code = clinic.CodeInternal
		}
		en, zh := httpMessages(he.Code)
		return he.Code, ErrorBody{Error: ErrorDetail{Code: code, Message: en, MessageZH: zh}}
	}
	return http.StatusInternalServerError, ErrorBody{Error: ErrorDetail{
		Code: clinic.CodeInternal, Message: "internal error", MessageZH: "内部错误",
	}}
}

func httpMessages(status int) (en, zh string) {
	switch status {
	case http.StatusNotFound:
		return "no such endpoint", "接口不存在"
	case http.StatusMethodNotAllowed:
		return "method not allowed", "不支持该请求方法"
	case http.StatusRequestEntityTooLarge:
		return "request body too large", "请求内容过大"
	case http.StatusUnauthorized:
		return "missing or invalid bearer token", "缺少或无效的访问令牌"
	case http.StatusTooManyRequests:
		return "too many requests, try again shortly", "请求过于频繁，请稍后再试"
	case http.StatusServiceUnavailable:
		return "service unavailable", "服务暂不可用"
	}
	return http.StatusText(status), "请求失败"
}
