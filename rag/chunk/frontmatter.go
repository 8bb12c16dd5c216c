package chunk

import (
	"strings"
)

// Meta is the front matter of a guideline document: a block of "key: value"
// lines between two "---" lines at the very start of the file.
//
//	---
//	id: emr-inpatient-time-limits
//	title: 住院病历书写时限
//	source: 病历书写基本规范（卫医政发〔2010〕11号）
//	version: "2010"
//	effective_date: 2010-03-01
//	tags: [病历, 时限]
//	---
//
// Values may be quoted with "…" or '…'. tags is a list written either as
// [a, b] or as following "- a" lines. Unknown keys are kept in Extra.
type Meta struct {
	ID            string
	Title         string
	Source        string
	Version       string
	EffectiveDate string
	Tags          []string
	Extra         map[string]string
}

// Bounds on front matter.
const (
	maxFrontMatterLines = 200
	maxMetaValueBytes   = 1000
	maxTags             = 50
)

// FrontMatter splits text into its front matter and body. Text without a
// front matter block (or whose block is not closed within 200 lines) is
// returned whole as body with a zero Meta. Overlong values are cut at a
// rune boundary; lines that are not "key: value" are ignored.
func FrontMatter(text string) (Meta, string) {
	var m Meta
	rest, ok := strings.CutPrefix(text, "---")
	if !ok {
		return m, text
	}
	nl := strings.IndexByte(rest, '\n')
	if nl < 0 || strings.TrimSpace(rest[:nl]) != "" {
		return m, text
	}
	rest = rest[nl+1:]
	var lines []string
	body := ""
	closed := false
	for i := 0; i < maxFrontMatterLines; i++ {
		line, after, found := strings.Cut(rest, "\n")
		if strings.TrimRight(line, " \t\r") == "---" {
			body, closed = after, true
			break
		}
		lines = append(lines, strings.TrimRight(line, "\r"))
		if !found {
			break
		}
		rest = after
	}
	if !closed {
		return Meta{}, text
	}
	lastKey := ""
	for _, line := range lines {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		if item, ok := strings.CutPrefix(trimmed, "- "); ok && lastKey == "tags" {
			m.addTag(unquote(item))
			continue
		}
		key, val, ok := strings.Cut(trimmed, ":")
		if !ok {
			continue
		}
		key = strings.ToLower(strings.TrimSpace(key))
		val = strings.TrimSpace(val)
		lastKey = key
		switch key {
		case "id":
			m.ID = unquote(val)
		case "title":
			m.Title = unquote(val)
		case "source":
			m.Source = unquote(val)
		case "version":
			m.Version = unquote(val)
		case "effective_date", "effective-date", "effective":
			m.EffectiveDate = unquote(val)
		case "tags":
			if inner, ok := strings.CutPrefix(val, "["); ok {
				inner = strings.TrimSuffix(inner, "]")
				for t := range strings.SplitSeq(inner, ",") {
					m.addTag(unquote(strings.TrimSpace(t)))
				}
			} else if val != "" {
				for t := range strings.SplitSeq(val, ",") {
					m.addTag(unquote(strings.TrimSpace(t)))
				}
			}
		default:
			if key == "" {
				continue
			}
			if m.Extra == nil {
				m.Extra = make(map[string]string)
			}
			if len(m.Extra) < maxFrontMatterLines {
				m.Extra[clip(key, 100)] = unquote(val)
			}
		}
	}
	return m, body
}

func (m *Meta) addTag(t string) {
	if t == "" || len(m.Tags) >= maxTags {
		return
	}
	for _, have := range m.Tags {
		if have == t {
			return
		}
	}
	m.Tags = append(m.Tags, t)
}

func unquote(v string) string {
	if len(v) >= 2 && (v[0] == '"' && v[len(v)-1] == '"' || v[0] == '\'' && v[len(v)-1] == '\'') {
		v = v[1 : len(v)-1]
	}
	return clip(strings.TrimSpace(v), maxMetaValueBytes)
}

// clip cuts s to at most n bytes at a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
