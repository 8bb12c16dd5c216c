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

	"github.com/yizhu-health/yizhu/clinic"
)

// NewValidator returns a validator that names fields by their JSON names.
func NewValidator() *validator.Validate {
	v := validator.New(validator.WithRequiredStructEnabled())
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch name {
		case "-":
			return ""
		case "":
			return f.Name
		}
		return name
	})
	return v
}

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
	for _, fe := range verrs {
		fields = append(fields, fieldReason(fe))
	}
	return &validationError{fields: fields}
}

// fieldReason explains one validator error in Chinese and English.
func fieldReason(fe validator.FieldError) FieldError {
	field := fe.Namespace()
	if _, rest, ok := strings.Cut(field, "."); ok {
		field = rest // drop the top-level struct name
	}
	p := fe.Param()
	f := FieldError{Field: field}
	switch fe.Tag() {
	case "required", "required_without", "required_with", "required_if":
		f.ReasonEN, f.ReasonZH = "is required", "必填"
	case "min", "gte":
		if isLenKind(fe.Kind()) {
			f.ReasonEN, f.ReasonZH = "must have at least "+p+" items/characters", "长度不能少于 "+p
		} else {
			f.ReasonEN, f.ReasonZH = "must be at least "+p, "不能小于 "+p
		}
	case "max", "lte":
		if isLenKind(fe.Kind()) {
			f.ReasonEN, f.ReasonZH = "must have at most "+p+" items/characters", "长度不能超过 "+p
		} else {
			f.ReasonEN, f.ReasonZH = "must be at most "+p, "不能大于 "+p
		}
	case "gt":
		f.ReasonEN, f.ReasonZH = "must be greater than "+p, "必须大于 "+p
	case "lt":
		f.ReasonEN, f.ReasonZH = "must be less than "+p, "必须小于 "+p
	case "len":
		f.ReasonEN, f.ReasonZH = "must have length "+p, "长度必须为 "+p
	case "oneof":
		f.ReasonEN, f.ReasonZH = "must be one of: "+p, "必须是以下之一："+p
	case "email":
		f.ReasonEN, f.ReasonZH = "must be an email address", "必须是电子邮箱地址"
	case "url", "http_url":
		f.ReasonEN, f.ReasonZH = "must be a URL", "必须是网址"
	case "uuid", "uuid4":
		f.ReasonEN, f.ReasonZH = "must be a UUID", "必须是 UUID"
	case "dive":
		f.ReasonEN, f.ReasonZH = "has an invalid element", "包含无效元素"
	case "alphanum":
		f.ReasonEN, f.ReasonZH = "must contain only letters and digits", "只能包含字母和数字"
	case "printascii":
		f.ReasonEN, f.ReasonZH = "must contain only printable ASCII", "只能包含可打印 ASCII 字符"
	default:
		f.ReasonEN = "fails the " + fe.Tag() + " check"
		f.ReasonZH = "未通过 " + fe.Tag() + " 校验"
	}
	return f
}

func isLenKind(k reflect.Kind) bool {
	return k == reflect.String || k == reflect.Slice || k == reflect.Map || k == reflect.Array
}
