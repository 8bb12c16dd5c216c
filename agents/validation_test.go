package agents_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/yizhu-health/yizhu/agents"
	"github.com/yizhu-health/yizhu/clinic"
)

type visit struct {
	Name    string   `json:"name" validate:"required,min=2,max=20"`
	Age     int      `json:"age" validate:"gte=0,lte=130"`
	Sex     string   `json:"sex" validate:"oneof=male female unknown"`
	Email   string   `json:"email,omitempty" validate:"omitempty,email"`
	ID      string   `json:"id" validate:"uuid"`
	Phone   string   `json:"phone" validate:"omitempty,e164"`
	Codes   []string `json:"codes" validate:"min=1,max=2,dive,len=3"`
	Pain    int      `json:"pain" validate:"gt=0,lt=11"`
	Secret  string   `json:"-" validate:"required"`
	Contact *contact `json:"contact" validate:"required"`
}

type contact struct {
	Relation string `json:"relation" validate:"required"`
}

func TestFieldReasons(t *testing.T) {
	v := agents.NewValidator()
	bad := visit{Name: "张", Age: 131, Sex: "x", Email: "nope", ID: "123", Phone: "12", Codes: []string{"ab"},
		Contact: &contact{}}
	err := v.Struct(bad)
	got := agents.FieldReasons(err)
	want := []agents.FieldReason{
		{Field: "name", ReasonZH: "长度不能少于 2 个字符", ReasonEN: "must be at least 2 characters long"},
		{Field: "age", ReasonZH: "不能大于 130", ReasonEN: "must be at most 130"},
		{Field: "sex", ReasonZH: "必须是以下之一：male, female, unknown", ReasonEN: "must be one of: male, female, unknown"},
		{Field: "email", ReasonZH: "必须是有效的电子邮件地址", ReasonEN: "must be a valid email address"},
		{Field: "id", ReasonZH: "必须是有效的 UUID", ReasonEN: "must be a valid UUID"},
		{Field: "phone", ReasonZH: "必须是 E.164 格式的电话号码（如 +8613800000000）", ReasonEN: "must be a phone number in E.164 format (+8613800000000)"},
		{Field: "codes[0]", ReasonZH: "长度必须为 3 个字符", ReasonEN: "must be exactly 3 characters long"},
		{Field: "pain", ReasonZH: "必须大于 0", ReasonEN: "must be greater than 0"},
		{Field: "Secret", ReasonZH: "为必填项", ReasonEN: "is required"},
		{Field: "contact.relation", ReasonZH: "为必填项", ReasonEN: "is required"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("FieldReasons (-want +got):\n%s", diff)
	}

	err = v.Struct(visit{Name: strings.Repeat("名", 21), Sex: "male", ID: "4b0c5a3e-7c55-4a57-9d4e-2b1f0c9a8e11",
		Codes: []string{"abc", "def", "ghi"}, Pain: 11, Secret: "s"})
	got = agents.FieldReasons(err)
	want = []agents.FieldReason{
		{Field: "name", ReasonZH: "长度不能超过 20 个字符", ReasonEN: "must be at most 20 characters long"},
		{Field: "codes", ReasonZH: "最多 2 项", ReasonEN: "must have at most 2 items"},
		{Field: "pain", ReasonZH: "必须小于 11", ReasonEN: "must be less than 11"},
		{Field: "contact", ReasonZH: "为必填项", ReasonEN: "is required"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("FieldReasons (-want +got):\n%s", diff)
	}
}

func TestFieldReasonsOtherErrors(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want []agents.FieldReason
	}{
		{name: "nil"},
		{name: "plain", err: errors.New("x")},
		{name: "clinic with field", err: fmt.Errorf("op: %w", clinic.NewError(clinic.CodeInvalid, "age", "age is negative", "年龄不能为负数")),
			want: []agents.FieldReason{{Field: "age", ReasonEN: "age is negative", ReasonZH: "年龄不能为负数"}}},
		{name: "clinic without field", err: clinic.Errorf(clinic.CodeInvalid, "bad")},
		{name: "output error", err: &agents.OutputError{Fields: []agents.FieldReason{{Field: "a", ReasonEN: "e", ReasonZH: "z"}}},
			want: []agents.FieldReason{{Field: "a", ReasonEN: "e", ReasonZH: "z"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, agents.FieldReasons(tc.err)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseJSON(t *testing.T) {
	v := agents.NewValidator()
	tests := []struct {
		name    string
		reply   string
		want    reco
		wantErr string
	}{
		{name: "plain", reply: `{"department":"急诊科","acuity":2}`, want: reco{Department: "急诊科", Acuity: 2}},
		{name: "spaces and fence", reply: "\n ```JSON\n{\"department\":\"急诊科\",\"acuity\":2}\n```\n",
			want: reco{Department: "急诊科", Acuity: 2}},
		{name: "prose before", reply: `Sure! {"department":"急诊科","acuity":2}`, wantErr: "not a JSON object"},
		{name: "two objects", reply: `{"department":"a","acuity":2}{"department":"b","acuity":2}`, wantErr: "text after"},
		{name: "array", reply: `[{"department":"a"}]`, wantErr: "not a JSON object"},
		{name: "wrong type", reply: `{"department":"a","acuity":"2"}`, wantErr: "does not match"},
		{name: "unterminated fence", reply: "```json\n{\"department\":\"a\",\"acuity\":2}", wantErr: "unterminated"},
		{name: "empty", reply: "  ", wantErr: "empty"},
		{name: "validation", reply: `{"department":"","acuity":0}`, wantErr: `field "department" is required; field "acuity" must be at least 1`},
		{name: "too long", reply: `{"department":"` + strings.Repeat("a", agents.MaxReplyBytes) + `"}`, wantErr: "longer than"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := agents.ParseJSON[reco](tc.reply, v)
			if tc.wantErr != "" {
				if !errors.Is(err, agents.ErrModelOutput) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want ErrModelOutput containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseJSON: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzParseJSON: no reply makes ParseJSON panic, and an accepted reply
// always yields a value that passes validation.
func FuzzParseJSON(f *testing.F) {
	for _, s := range []string{
		`{"department":"急诊科","acuity":2}`,
		"```json\n{\"department\":\"a\",\"acuity\":1,\"reasons\":[\"x\"]}\n```",
		"```\n```", "```", `{"department":`, `{}`, `{"reasons":[1,2]}`, "\uFEFF{}",
	} {
		f.Add(s)
	}
	v := agents.NewValidator()
	f.Fuzz(func(t *testing.T, reply string) {
		got, err := agents.ParseJSON[reco](reply, v)
		if err != nil {
			if !errors.Is(err, agents.ErrModelOutput) {
				t.Fatalf("error %v does not wrap ErrModelOutput", err)
			}
			return
		}
		if verr := v.Struct(got); verr != nil {
			t.Fatalf("accepted %q but value fails validation: %v", reply, verr)
		}
	})
}

// TestFieldReasonsSizeTags covers every size tag for each thing it can
// count: characters of a string, items of a list or map, and a number's
// value.
func TestFieldReasonsSizeTags(t *testing.T) {
	v := agents.NewValidator()
	str2, str4 := "ab", "abcd"
	list2, list4 := []int{1, 2}, []int{1, 2, 3, 4}
	map2 := map[string]int{"a": 1, "b": 2}
	tests := []struct {
		name   string
		value  any
		tag    string
		en, zh string
	}{
		{"min string", str2, "min=3", "must be at least 3 characters long", "长度不能少于 3 个字符"},
		{"min list", list2, "min=3", "must have at least 3 items", "至少需要 3 项"},
		{"min map", map2, "min=3", "must have at least 3 items", "至少需要 3 项"},
		{"min number", 2, "min=3", "must be at least 3", "不能小于 3"},
		{"gte string", str2, "gte=3", "must be at least 3 characters long", "长度不能少于 3 个字符"},
		{"gte list", list2, "gte=3", "must have at least 3 items", "至少需要 3 项"},
		{"gte number", 2.5, "gte=3", "must be at least 3", "不能小于 3"},
		{"max string", str4, "max=3", "must be at most 3 characters long", "长度不能超过 3 个字符"},
		{"max list", list4, "max=3", "must have at most 3 items", "最多 3 项"},
		{"max number", 4, "max=3", "must be at most 3", "不能大于 3"},
		{"lte string", str4, "lte=3", "must be at most 3 characters long", "长度不能超过 3 个字符"},
		{"lte list", list4, "lte=3", "must have at most 3 items", "最多 3 项"},
		{"lte number", 4, "lte=3", "must be at most 3", "不能大于 3"},
		{"gt string", str2, "gt=3", "must be longer than 3 characters", "长度必须超过 3 个字符"},
		{"gt list", list2, "gt=3", "must have more than 3 items", "必须多于 3 项"},
		{"gt number", 3, "gt=3", "must be greater than 3", "必须大于 3"},
		{"lt string", str4, "lt=3", "must be shorter than 3 characters", "长度必须少于 3 个字符"},
		{"lt list", list4, "lt=3", "must have fewer than 3 items", "必须少于 3 项"},
		{"lt number", 3, "lt=3", "must be less than 3", "必须小于 3"},
		{"len string", str2, "len=3", "must be exactly 3 characters long", "长度必须为 3 个字符"},
		{"len list", list2, "len=3", "must have exactly 3 items", "必须正好 3 项"},
		{"len number", 2, "len=3", "must equal 3", "必须等于 3"},
		{"eq number", 2, "eq=3", "must equal 3", "必须等于 3"},
		{"ne number", 3, "ne=3", "must not equal 3", "不能等于 3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := agents.FieldReasons(v.Var(tc.value, tc.tag))
			want := []agents.FieldReason{{ReasonEN: tc.en, ReasonZH: tc.zh}}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("FieldReasons(%v %q) (-want +got):\n%s", tc.value, tc.tag, diff)
			}
		})
	}
}
