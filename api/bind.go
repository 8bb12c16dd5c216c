package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"

	"github.com/go-playground/validator/v10"
	"github.com/labstack/echo/v4"

	"github.com/yizhu-health/yizhu/agents"
	"github.com/yizhu-health/yizhu/clinic"
)

// NewValidator returns the validator every request DTO is checked with:
// the same one the agents check LLM output with (fields named by their
// JSON names, nested required structs enforced), so a 400 and an LLM
// repair prompt explain a failure in the same words.
func NewValidator() *validator.Validate { return agents.NewValidator() }

// echoValidator adapts validator/v10 to echo.Validator.
type echoValidator struct{ v *validator.Validate }

func (ev echoValidator) Validate(i any) error { return ev.v.Struct(i) }

// Bind decodes the JSON request body into dst strictly — unknown fields,
// trailing data, wrong types and an empty body are errors — and then
// validates dst with its `validate` struct tags. Every error is returned as
// a 400 carrying one {field, reason_zh, reason_en} per problem.
func Bind(c echo.Context, dst any) error {
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		if he, ok := errors.AsType[*echo.HTTPError](err); ok {
			return he // the body limit (413)
		}
		return clinic.Wrap(err, clinic.CodeInvalid, "could not read the request body", "无法读取请求内容")
	}
	if err := DecodeStrict(body, dst); err != nil {
		return err
	}
	return ValidateStruct(c.Echo().Validator, dst)
}

// DecodeStrict decodes one JSON value from data into dst, rejecting unknown
// fields and trailing data, and explains errors per field in both languages.
func DecodeStrict(data []byte, dst any) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return &validationError{fields: []FieldError{{Field: "body",
			ReasonEN: "the request body is empty; a JSON object is required",
			ReasonZH: "请求内容为空，需要一个 JSON 对象"}}}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return &validationError{fields: []FieldError{decodeReason(err)}}
	}
	if dec.More() {
		return &validationError{fields: []FieldError{{Field: "body",
			ReasonEN: "unexpected data after the JSON object", ReasonZH: "JSON 对象之后有多余内容"}}}
	}
	return nil
}

func decodeReason(err error) FieldError {
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		field := te.Field
		if field == "" {
			field = "body"
		}
		return FieldError{Field: field,
			ReasonEN: fmt.Sprintf("must be of JSON type %s, got %s", jsonKind(te.Type), te.Value),
			ReasonZH: fmt.Sprintf("类型错误：应为 %s，实际为 %s", jsonKind(te.Type), te.Value)}
	}
	if se, ok := errors.AsType[*json.SyntaxError](err); ok {
		return FieldError{Field: "body",
			ReasonEN: fmt.Sprintf("malformed JSON at byte %d", se.Offset),
			ReasonZH: fmt.Sprintf("JSON 格式错误（第 %d 字节）", se.Offset)}
	}
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		name = strings.Trim(name, `"`)
		return FieldError{Field: name, ReasonEN: "unknown field", ReasonZH: "未知字段"}
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return FieldError{Field: "body", ReasonEN: "the JSON body is truncated", ReasonZH: "JSON 内容不完整"}
	}
	return FieldError{Field: "body", ReasonEN: "malformed JSON body", ReasonZH: "JSON 格式错误"}
}

func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "array"
	}
	return "object"
}

// ValidateStruct runs the validator on dst and turns its errors into a 400
// with bilingual per-field reasons. A nil validator validates nothing.
func ValidateStruct(v echo.Validator, dst any) error {
	if v == nil {
		return nil
	}
	err := v.Validate(dst)
	if err == nil {
		return nil
	}
	verrs, ok := errors.AsType[validator.ValidationErrors](err)
	if !ok {
		return clinic.Wrap(err, clinic.CodeInternal, "validation failed", "校验失败")
	}
	fields := make([]FieldError, 0, len(verrs))
	for _, r := range agents.FieldReasons(verrs) {
		fields = append(fields, FieldError(r))
	}
	return &validationError{fields: fields}
}
