package agents

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/go-playground/validator/v10"

	"github.com/yizhu-health/yizhu/clinic"
)

// FieldReason is one field-level validation failure, in the shape the API
// returns in a 400 body: {"field", "reason_zh", "reason_en"}.
type FieldReason struct {
	Field    string `json:"field"`
	ReasonZH string `json:"reason_zh"`
	ReasonEN string `json:"reason_en"`
}

// NewValidator returns a validator that requires nested structs marked
// required and names fields by their JSON names, so FieldReasons reports
// "department", not "Department".
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

// FieldReasons explains err field by field in Chinese and English. It
// understands validator.ValidationErrors, *OutputError (its Fields) and a
// *clinic.Error with a Field; for anything else it returns nil.
func FieldReasons(err error) []FieldReason {
	if err == nil {
		return nil
	}
	if ves, ok := errors.AsType[validator.ValidationErrors](err); ok {
		out := make([]FieldReason, 0, len(ves))
		for _, fe := range ves {
			en, zh := reasonFor(fe)
			out = append(out, FieldReason{Field: fieldPath(fe), ReasonEN: en, ReasonZH: zh})
		}
		return out
	}
	if oe, ok := errors.AsType[*OutputError](err); ok {
		return oe.Fields
	}
	if ce, ok := errors.AsType[*clinic.Error](err); ok && ce.Field != "" {
		en, zh := clinic.ErrorMessages(ce)
		return []FieldReason{{Field: ce.Field, ReasonEN: en, ReasonZH: zh}}
	}
	return nil
}

// fieldPath drops the top-level type name from the namespace:
// "Recommendation.items[0].name" → "items[0].name".
func fieldPath(fe validator.FieldError) string {
	ns := fe.Namespace()
	if _, rest, ok := strings.Cut(ns, "."); ok {
		return rest
	}
	return fe.Field()
}

// sizeUnit says what min/max/len count for the field's kind.
type sizeUnit int

const (
	unitValue sizeUnit = iota
	unitChars
	unitItems
)

func unitOf(k reflect.Kind) sizeUnit {
	switch k {
	case reflect.String:
		return unitChars
	case reflect.Slice, reflect.Array, reflect.Map:
		return unitItems
	}
	return unitValue
}

// sizeReason is the English and the Chinese format of a size tag's reason;
// each takes the tag's parameter.
type sizeReason struct{ en, zh string }

// Size tag wordings, indexed by the sizeUnit of the field.
var (
	atLeast = [...]sizeReason{
		unitValue: {"must be at least %s", "不能小于 %s"},
		unitChars: {"must be at least %s characters long", "长度不能少于 %s 个字符"},
		unitItems: {"must have at least %s items", "至少需要 %s 项"},
	}
	atMost = [...]sizeReason{
		unitValue: {"must be at most %s", "不能大于 %s"},
		unitChars: {"must be at most %s characters long", "长度不能超过 %s 个字符"},
		unitItems: {"must have at most %s items", "最多 %s 项"},
	}
	moreThan = [...]sizeReason{
		unitValue: {"must be greater than %s", "必须大于 %s"},
		unitChars: {"must be longer than %s characters", "长度必须超过 %s 个字符"},
		unitItems: {"must have more than %s items", "必须多于 %s 项"},
	}
	fewerThan = [...]sizeReason{
		unitValue: {"must be less than %s", "必须小于 %s"},
		unitChars: {"must be shorter than %s characters", "长度必须少于 %s 个字符"},
		unitItems: {"must have fewer than %s items", "必须少于 %s 项"},
	}
	exactly = [...]sizeReason{
		unitValue: {"must equal %s", "必须等于 %s"},
		unitChars: {"must be exactly %s characters long", "长度必须为 %s 个字符"},
		unitItems: {"must have exactly %s items", "必须正好 %s 项"},
	}
)

// sizeTags are the validator tags whose reason depends on what the field
// counts, with their wordings.
var sizeTags = map[string]*[3]sizeReason{
	"min": &atLeast, "gte": &atLeast,
	"max": &atMost, "lte": &atMost,
	"gt":  &moreThan,
	"lt":  &fewerThan,
	"len": &exactly,
}

// reasonFor maps a validator tag to a bilingual reason. Size tags count
// characters (runes) for strings and items for lists, as validator does.
func reasonFor(fe validator.FieldError) (en, zh string) {
	p := fe.Param()
	if w, ok := sizeTags[fe.Tag()]; ok {
		r := w[unitOf(fe.Kind())]
		return fmt.Sprintf(r.en, p), fmt.Sprintf(r.zh, p)
	}
	switch fe.Tag() {
	case "required", "required_if", "required_unless", "required_with", "required_with_all",
		"required_without", "required_without_all":
		return "is required", "为必填项"
	case "eq":
		return fmt.Sprintf("must equal %s", p), fmt.Sprintf("必须等于 %s", p)
	case "ne":
		return fmt.Sprintf("must not equal %s", p), fmt.Sprintf("不能等于 %s", p)
	case "oneof":
		list := strings.Join(strings.Fields(p), ", ")
		return "must be one of: " + list, "必须是以下之一：" + list
	case "email":
		return "must be a valid email address", "必须是有效的电子邮件地址"
	case "uuid", "uuid3", "uuid4", "uuid5", "uuid_rfc4122", "uuid4_rfc4122":
		return "must be a valid UUID", "必须是有效的 UUID"
	case "url", "http_url", "uri":
		return "must be a valid URL", "必须是有效的 URL"
	case "numeric", "number":
		return "must be a number", "必须是数字"
	case "alpha":
		return "must contain letters only", "只能包含字母"
	case "alphanum":
		return "must contain letters and digits only", "只能包含字母和数字"
	case "boolean":
		return "must be true or false", "必须是 true 或 false"
	case "datetime":
		return fmt.Sprintf("must be a date/time in the layout %s", p), fmt.Sprintf("必须是格式为 %s 的日期时间", p)
	case "e164":
		return "must be a phone number in E.164 format (+8613800000000)", "必须是 E.164 格式的电话号码（如 +8613800000000）"
	case "ip", "ipv4", "ipv6":
		return "must be a valid IP address", "必须是有效的 IP 地址"
	case "unique":
		return "must not contain duplicates", "不能包含重复项"
	case "startswith":
		return fmt.Sprintf("must start with %q", p), fmt.Sprintf("必须以 %q 开头", p)
	case "endswith":
		return fmt.Sprintf("must end with %q", p), fmt.Sprintf("必须以 %q 结尾", p)
	case "contains":
		return fmt.Sprintf("must contain %q", p), fmt.Sprintf("必须包含 %q", p)
	case "excludes":
		return fmt.Sprintf("must not contain %q", p), fmt.Sprintf("不能包含 %q", p)
	case "hexadecimal":
		return "must be hexadecimal", "必须是十六进制"
	case "lowercase":
		return "must be lowercase", "必须是小写"
	case "uppercase":
		return "must be uppercase", "必须是大写"
	case "ascii", "printascii":
		return "must contain ASCII characters only", "只能包含 ASCII 字符"
	case "excluded_with", "excluded_without", "excluded_if", "excluded_unless", "isdefault":
		return "must be empty here", "此处必须为空"
	}
	return fmt.Sprintf("failed the %q check", fe.Tag()), fmt.Sprintf("未通过 %q 校验", fe.Tag())
}
