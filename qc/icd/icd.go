// Package icd loads a standard diagnosis-name list (the ICD-10 Beijing
// clinical edition v6.01 used by CBLUE CHIP-CDN, or a small tab-separated
// fixture) and decides whether a doctor's diagnosis wording can be
// normalised to one of its names.
//
// # Normalisation
//
// A wording is normalisable when, after cleaning, it equals a standard name
// or contains one that covers most of it. Cleaning removes what doctors add
// around a diagnosis and coders drop: bracketed remarks, laterality (左/右/
// 双侧), stage and TNM tokens (IIIB期, T2N1M0), status suffixes (术后,
// 化疗后, 待查, 可能) and punctuation; and it rewrites the common shorthand
// for malignancy (癌, Ca) to the list's 恶性肿瘤. The rules are ours; the list
// is the data.
package icd

import (
	"archive/zip"
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/yizhu-health/yizhu/clinic"
)

// Bounds on what a list may hold.
const (
	maxEntries   = 200_000
	maxNameRunes = 200
	maxPartBytes = 64 << 20 // one uncompressed xlsx part
	maxTermRunes = 64       // longer diagnosis items are cut before matching
	minCover     = 0.6      // share of the cleaned term a contained name must cover
	minNameRunes = 2
)

// DefaultPath is where the list lives under the shared data directory.
const DefaultPath = "records/chip-cdn/ICD-10-Beijing-clinical-v601.xlsx"

// Entry is one standard diagnosis: its ICD-10 code and name.
type Entry struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// Match is the result of normalising a wording.
type Match struct {
	Entry
	// Cleaned is the wording after cleaning; Exact says the whole cleaned
	// wording is a standard name (not just a covering part of it).
	Cleaned string `json:"cleaned"`
	Exact   bool   `json:"exact"`
}

// List is an immutable set of standard names. It is safe for concurrent use.
type List struct {
	byName  map[string]string // cleaned name -> code
	names   map[string]string // cleaned name -> original name
	maxLen  int               // longest cleaned name, in runes
	entries int
}

// Len returns the number of entries read.
func (l *List) Len() int { return l.entries }

// New builds a list from entries; entries without a name are skipped.
func New(entries []Entry) (*List, error) {
	if len(entries) > maxEntries {
		return nil, clinic.NewError(clinic.CodeTooLarge, "icd", fmt.Sprintf("icd list has more than %d entries", maxEntries), "ICD 列表条目过多")
	}
	l := &List{byName: make(map[string]string, len(entries)), names: make(map[string]string, len(entries))}
	for _, e := range entries {
		name := strings.TrimSpace(e.Name)
		if name == "" || utf8.RuneCountInString(name) > maxNameRunes {
			continue
		}
		c := cleanName(name)
		if utf8.RuneCountInString(c) < minNameRunes {
			continue
		}
		if _, dup := l.byName[c]; !dup {
			l.byName[c] = strings.TrimSpace(e.Code)
			l.names[c] = name
		}
		if n := utf8.RuneCountInString(c); n > l.maxLen {
			l.maxLen = n
		}
		l.entries++
	}
	if l.entries == 0 {
		return nil, clinic.NewError(clinic.CodeInvalid, "icd", "icd list is empty", "ICD 列表为空")
	}
	return l, nil
}

// Open reads a list from path: .xlsx (first sheet, code in column A and name
// in column B, as in the Beijing clinical edition) or a text file with one
// "code<TAB>name" per line ('#' starts a comment).
func Open(path string) (*List, error) {
	if strings.EqualFold(filepath.Ext(path), ".xlsx") {
		zr, err := zip.OpenReader(path)
		if err != nil {
			return nil, clinic.Wrap(err, clinic.CodeInvalid, "cannot open icd list "+path, "无法打开 ICD 列表")
		}
		defer zr.Close()
		entries, err := readXLSX(&zr.Reader)
		if err != nil {
			return nil, fmt.Errorf("icd.Open(%s): %w", path, err)
		}
		return New(entries)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, clinic.Wrap(err, clinic.CodeInvalid, "cannot open icd list "+path, "无法打开 ICD 列表")
	}
	defer f.Close()
	l, err := ReadTSV(f)
	if err != nil {
		return nil, fmt.Errorf("icd.Open(%s): %w", path, err)
	}
	return l, nil
}

// ReadTSV reads "code<TAB>name" lines.
func ReadTSV(r io.Reader) (*List, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 4096)
	var entries []Entry
	line := 0
	for sc.Scan() {
		line++
		t := strings.TrimSpace(sc.Text())
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		code, name, ok := strings.Cut(t, "\t")
		if !ok {
			return nil, clinic.NewError(clinic.CodeInvalid, "icd", fmt.Sprintf("line %d: want code<TAB>name", line), fmt.Sprintf("第 %d 行格式应为 编码<TAB>名称", line))
		}
		if len(entries) >= maxEntries {
			return nil, clinic.NewError(clinic.CodeTooLarge, "icd", "icd list too long", "ICD 列表过长")
		}
		entries = append(entries, Entry{Code: code, Name: name})
	}
	if err := sc.Err(); err != nil {
		return nil, clinic.Wrap(err, clinic.CodeInvalid, fmt.Sprintf("icd list line %d unreadable", line+1), "ICD 列表无法读取")
	}
	return New(entries)
}

func readPart(zr *zip.Reader, name string) ([]byte, error) {
	f, err := zr.Open(name)
	if err != nil {
		return nil, clinic.Wrap(err, clinic.CodeInvalid, "xlsx part missing: "+name, "xlsx 文件缺少部件")
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxPartBytes+1))
	if err != nil {
		return nil, clinic.Wrap(err, clinic.CodeInvalid, "xlsx part unreadable: "+name, "xlsx 部件无法读取")
	}
	if len(b) > maxPartBytes {
		return nil, clinic.NewError(clinic.CodeTooLarge, "icd", "xlsx part too large: "+name, "xlsx 部件过大")
	}
	return b, nil
}

// readXLSX reads columns A and B of the first worksheet.
func readXLSX(zr *zip.Reader) ([]Entry, error) {
	var shared []string
	if b, err := readPart(zr, "xl/sharedStrings.xml"); err == nil {
		shared, err = parseShared(b)
		if err != nil {
			return nil, err
		}
	}
	b, err := readPart(zr, "xl/worksheets/sheet1.xml")
	if err != nil {
		return nil, err
	}
	dec := xml.NewDecoder(strings.NewReader(string(b)))
	var (
		entries       []Entry
		cur           Entry
		col, typ, val string
		inV, inT      bool
	)
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, clinic.Wrap(err, clinic.CodeInvalid, "xlsx sheet is not valid XML", "xlsx 工作表格式错误")
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "row":
				cur = Entry{}
			case "c":
				col, typ, val = "", "", ""
				for _, a := range t.Attr {
					switch a.Name.Local {
					case "r":
						col = strings.TrimRightFunc(a.Value, unicode.IsDigit)
					case "t":
						typ = a.Value
					}
				}
			case "v":
				inV = true
			case "t":
				inT = true
			}
		case xml.CharData:
			if inV || inT {
				val += string(t)
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "v":
				inV = false
			case "t":
				inT = false
			case "c":
				s := val
				if typ == "s" {
					i, err := strconv.Atoi(strings.TrimSpace(val))
					if err != nil || i < 0 || i >= len(shared) {
						return nil, clinic.NewError(clinic.CodeInvalid, "icd", "xlsx cell refers to a missing shared string", "xlsx 单元格引用了不存在的共享字符串")
					}
					s = shared[i]
				}
				switch col {
				case "A":
					cur.Code = s
				case "B":
					cur.Name = s
				}
			case "row":
				if cur.Name != "" && looksLikeCode(cur.Code) {
					if len(entries) >= maxEntries {
						return nil, clinic.NewError(clinic.CodeTooLarge, "icd", "icd sheet too long", "ICD 工作表过长")
					}
					entries = append(entries, cur)
				}
			}
		}
	}
	return entries, nil
}

func looksLikeCode(s string) bool {
	s = strings.TrimSpace(s)
	return len(s) >= 3 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= '0' && s[1] <= '9'
}

func parseShared(b []byte) ([]string, error) {
	dec := xml.NewDecoder(strings.NewReader(string(b)))
	var (
		out []string
		cur strings.Builder
		inT bool
	)
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, clinic.Wrap(err, clinic.CodeInvalid, "xlsx shared strings are not valid XML", "xlsx 共享字符串格式错误")
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "si":
				cur.Reset()
			case "t":
				inT = true
			}
		case xml.CharData:
			if inT {
				cur.Write(t)
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "t":
				inT = false
			case "si":
				if len(out) >= 4*maxEntries {
					return nil, clinic.NewError(clinic.CodeTooLarge, "icd", "too many shared strings", "共享字符串过多")
				}
				out = append(out, cur.String())
			}
		}
	}
}

// Normalise reports whether term can be normalised to a standard name, and
// to which. It never fails; an empty or unmatched term gives ok=false.
func (l *List) Normalise(term string) (Match, bool) {
	c := Clean(term)
	if c == "" {
		return Match{Cleaned: c}, false
	}
	if m, ok := l.normalise(c); ok {
		return m, true
	}
	// Histology shorthand: "…腺癌", "…鳞癌" code as the site's malignancy.
	for _, h := range []string{"腺恶性肿瘤", "鳞恶性肿瘤", "鳞状细胞恶性肿瘤"} {
		if strings.HasSuffix(c, h) && len(c) > len(h) {
			if m, ok := l.normalise(strings.TrimSuffix(c, h) + "恶性肿瘤"); ok {
				m.Cleaned = c
				return m, true
			}
		}
	}
	return Match{Cleaned: c}, false
}

func (l *List) normalise(c string) (Match, bool) {
	if code, ok := l.byName[c]; ok {
		return Match{Entry: Entry{Code: code, Name: l.names[c]}, Cleaned: c, Exact: true}, true
	}
	// Longest standard name contained in the term, if it covers enough.
	r := []rune(c)
	if len(r) > maxTermRunes {
		r = r[:maxTermRunes]
	}
	maxLen := min(l.maxLen, len(r))
	for n := maxLen; n >= minNameRunes; n-- {
		if float64(n) < minCover*float64(len(r)) {
			break
		}
		for i := 0; i+n <= len(r); i++ {
			sub := string(r[i : i+n])
			if code, ok := l.byName[sub]; ok {
				return Match{Entry: Entry{Code: code, Name: l.names[sub]}, Cleaned: c}, true
			}
		}
	}
	return Match{Cleaned: c}, false
}

// cleanName is the cleaning applied to the list's own names: width and
// case folding, punctuation removed, shorthand rewritten.
func cleanName(s string) string {
	return rewrite(fold(s))
}

// Clean applies the wording clean-up described in the package doc.
func Clean(term string) string {
	s := fold(term)
	s = dropBracketed(s)
	for {
		prev := s
		s = trimAffixes(s)
		if s == prev {
			break
		}
	}
	s = dropStage(s)
	return rewrite(s)
}

// fold maps full-width ASCII to half-width, upper-cases Latin letters and
// drops whitespace and most punctuation (keeping brackets for dropBracketed).
func fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if r >= 0xFF01 && r <= 0xFF5E {
			r -= 0xFEE0
		}
		switch {
		case r == '(' || r == ')' || r == '[' || r == ']' || r == '（' || r == '）' || r == '【' || r == '】':
			b.WriteRune(r)
		case unicode.IsSpace(r) || unicode.IsPunct(r) || unicode.IsSymbol(r):
		case r >= 'a' && r <= 'z':
			b.WriteRune(r - 'a' + 'A')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func dropBracketed(s string) string {
	var b strings.Builder
	depth := 0
	for _, r := range s {
		switch r {
		case '(', '[', '（', '【':
			depth++
		case ')', ']', '）', '】':
			if depth > 0 {
				depth--
			}
		default:
			if depth == 0 {
				b.WriteRune(r)
			}
		}
	}
	return b.String()
}

// Affixes doctors add that a standard name does not carry.
var (
	prefixes = []string{"左侧", "右侧", "双侧", "左", "右", "双", "疑似", "可疑", "考虑"}
	suffixes = []string{"可能性大", "待排除", "待排", "待查", "可能", "术后", "放化疗后", "综合治疗后", "化疗后", "放疗后", "治疗后", "复发", "病史", "史", "疑似"}
)

func trimAffixes(s string) string {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) && utf8.RuneCountInString(s)-utf8.RuneCountInString(p) >= minNameRunes {
			return strings.TrimPrefix(s, p)
		}
	}
	for _, x := range suffixes {
		if strings.HasSuffix(s, x) && utf8.RuneCountInString(s)-utf8.RuneCountInString(x) >= minNameRunes {
			return strings.TrimSuffix(s, x)
		}
	}
	return s
}

// dropStage removes stage and TNM tokens: runs of Roman numerals (Latin or
// Unicode) with an optional A/B/C followed by 期, digits followed by 期, and
// T?N?M? groups.
func dropStage(s string) string {
	r := []rune(s)
	out := r[:0:0]
	for i := 0; i < len(r); i++ {
		j := i
		for j < len(r) && isRomanOrDigit(r[j]) {
			j++
		}
		if j > i {
			k := j
			if k < len(r) && (r[k] == 'A' || r[k] == 'B' || r[k] == 'C') {
				k++
			}
			if k < len(r) && r[k] == '期' {
				i = k
				continue
			}
		}
		if r[i] == 'T' && i+1 < len(r) && (unicode.IsDigit(r[i+1]) || r[i+1] == 'X') {
			k := i + 1
			for k < len(r) && (unicode.IsDigit(r[k]) || strings.ContainsRune("XNMABC", r[k])) {
				k++
			}
			if k-i >= 4 {
				i = k - 1
				continue
			}
		}
		out = append(out, r[i])
	}
	return string(out)
}

func isRomanOrDigit(r rune) bool {
	return r == 'I' || r == 'V' || (r >= 'Ⅰ' && r <= 'Ⅻ') || (r >= '0' && r <= '9')
}

// rewrite maps malignancy shorthand to the list's wording: "…癌" and
// "…CA" become "…恶性肿瘤"; Normalise also tries dropping 腺/鳞 before it.
func rewrite(s string) string {
	for _, short := range []string{"CA", "癌"} {
		if strings.HasSuffix(s, short) && len(s) > len(short) {
			return strings.TrimSuffix(s, short) + "恶性肿瘤"
		}
	}
	return s
}
