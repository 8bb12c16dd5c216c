package triage

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"

	"github.com/go-playground/validator/v10"
	"gopkg.in/yaml.v3"

	"github.com/yizhu-health/yizhu/clinic"
)

//go:embed kb/*.yaml
var kbFS embed.FS

// maxDataBytes bounds every data file (catalog, rules, lexicon, KB) read
// from a hospital.
const maxDataBytes = 4 << 20

// decodeStrict reads one YAML (or JSON, which YAML accepts) document from r
// into v, refusing unknown fields and trailing documents, then runs the
// struct's validate tags. what names the file kind in errors.
func decodeStrict(r io.Reader, what string, v any) error {
	b, err := io.ReadAll(io.LimitReader(r, maxDataBytes+1))
	if err != nil {
		return clinic.Wrap(err, clinic.CodeInvalid, "cannot read "+what, "无法读取"+what)
	}
	if len(b) > maxDataBytes {
		return clinic.NewError(clinic.CodeTooLarge, what, fmt.Sprintf("%s is larger than %d bytes", what, maxDataBytes), what+"文件过大")
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		return clinic.Wrap(err, clinic.CodeInvalid, "cannot decode "+what, what+"格式错误")
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return clinic.NewError(clinic.CodeInvalid, what, what+" holds more than one document", what+"包含多个文档")
	}
	if err := newValidator().Struct(v); err != nil {
		return clinic.Wrap(err, clinic.CodeInvalid, what+" is not valid", what+"校验失败")
	}
	return nil
}

func newValidator() *validator.Validate {
	return validator.New(validator.WithRequiredStructEnabled())
}

// invalid returns a CodeInvalid error about field of a data file.
func invalid(what, field, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	return clinic.NewError(clinic.CodeInvalid, field, what+": "+msg, what+"校验失败: "+msg)
}

func mustEmbedded(name string) io.Reader {
	b, err := kbFS.ReadFile(name)
	if err != nil {
		// The file is embedded at build time; a missing one is a build bug.
		panic("triage: embedded " + name + ": " + err.Error())
	}
	return bytes.NewReader(b)
}
