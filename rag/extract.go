package rag

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/text/encoding/simplifiedchinese"
	xunicode "golang.org/x/text/encoding/unicode"

	"github.com/yizhu-health/yizhu/clinic"
)

// Format is a document format.
type Format string

// Formats the ingester reads.
const (
	FormatMarkdown Format = "markdown"
	FormatText     Format = "text"
	FormatHTML     Format = "html"
	FormatPDF      Format = "pdf"
)

// formatOf picks the format from a file name, then from the content.
func formatOf(name string, data []byte) (Format, bool) {
	lower := strings.ToLower(name)
	switch {
	case strings.HasSuffix(lower, ".md"), strings.HasSuffix(lower, ".markdown"):
		return FormatMarkdown, true
	case strings.HasSuffix(lower, ".txt"), strings.HasSuffix(lower, ".text"):
		return FormatText, true
	case strings.HasSuffix(lower, ".html"), strings.HasSuffix(lower, ".htm"):
		return FormatHTML, true
	case strings.HasSuffix(lower, ".pdf"):
		return FormatPDF, true
	}
	head := bytes.ToLower(bytes.TrimSpace(data[:min(len(data), 512)]))
	switch {
	case bytes.HasPrefix(data, []byte("%PDF-")):
		return FormatPDF, true
	case bytes.HasPrefix(head, []byte("<!doctype html")), bytes.HasPrefix(head, []byte("<html")):
		return FormatHTML, true
	case name == "":
		return FormatText, true
	}
	return "", false
}

// Errors of decoding.
var (
	errBinary = clinic.NewError(clinic.CodeInvalid, "file",
		"the file looks binary (NUL or control bytes), not text",
		"文件疑似二进制文件（含 NUL 或控制字节），不是文本")
	errEncoding = clinic.NewError(clinic.CodeInvalid, "file",
		"the file is neither valid UTF-8 nor GBK/GB18030 text; convert it to UTF-8",
		"文件既不是有效的 UTF-8 也不是 GBK/GB18030 编码，请转换为 UTF-8 后重试")
)

// decodeText returns data as UTF-8 text and the encoding it was in:
// UTF-8 (a BOM is dropped), UTF-16 with a BOM, or GB18030 (a superset of
// GBK and GB2312). Binary data and bytes valid in none of them are invalid.
func decodeText(data []byte) (string, string, error) {
	var text, enc string
	switch {
	case bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}):
		data = data[3:]
		if !utf8.Valid(data) {
			return "", "", errEncoding
		}
		text, enc = string(data), "utf-8"
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}), bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		dec := xunicode.UTF16(xunicode.LittleEndian, xunicode.ExpectBOM).NewDecoder()
		out, err := dec.Bytes(data)
		if err != nil || !utf8.Valid(out) || bytes.ContainsRune(out, utf8.RuneError) {
			return "", "", errEncoding
		}
		text, enc = string(out), "utf-16"
	case bytes.IndexByte(data, 0) >= 0:
		return "", "", errBinary
	case utf8.Valid(data):
		text, enc = string(data), "utf-8"
	default:
		out, err := simplifiedchinese.GB18030.NewDecoder().Bytes(data)
		if err != nil || !utf8.Valid(out) || bytes.ContainsRune(out, utf8.RuneError) {
			return "", "", errEncoding
		}
		text, enc = string(out), "gb18030"
	}
	if looksBinary(text) {
		return "", "", errBinary
	}
	return text, enc, nil
}

// looksBinary reports whether more than 1% of the runes (or any NUL) are
// control characters other than tab, newline, carriage return and form feed.
func looksBinary(s string) bool {
	n, bad := 0, 0
	for _, r := range s {
		n++
		if r == 0 {
			return true
		}
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' && r != '\f' || r == 0x7f {
			bad++
		}
	}
	return bad > 0 && bad*100 > n
}

// normalise turns CRLF and CR into LF, form feeds into paragraph breaks,
// drops trailing spaces on each line and trims the text.
func normalise(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	s = strings.ReplaceAll(s, "\f", "\n\n")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRightFunc(l, unicode.IsSpace)
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

// htmlToMarkdown extracts the text of an HTML document: h1–h6 become
// Markdown headings (so the chunker keeps them as the heading path),
// list items become "- " lines, block elements become line breaks, and
// script, style and the head (except its title) are dropped. It returns the
// <title> (or the first h1) and the text.
func htmlToMarkdown(src string) (title, text string) {
	z := html.NewTokenizer(strings.NewReader(src))
	z.SetMaxBuf(len(src) + 1024)
	var out strings.Builder
	var headBuf strings.Builder
	skip := 0        // depth inside script/style/… elements
	inTitle := false // inside <title>
	heading := 0     // level of the open h1–h6, 0 if none
	pre := 0         // depth inside <pre>
	firstH1 := ""
	var titleBuf strings.Builder
	newline := func(n int) {
		s := out.String()
		have := len(s) - len(strings.TrimRight(s, "\n"))
		if len(s) == 0 {
			return
		}
		for ; have < n; have++ {
			out.WriteByte('\n')
		}
	}
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return strings.TrimSpace(cmpOr(collapse(titleBuf.String()), firstH1)), normalise(out.String())
		case html.StartTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			tag := string(name)
			switch tag {
			case "script", "style", "noscript", "template", "svg", "head":
				if tt == html.StartTagToken {
					skip++
				}
			case "title":
				inTitle = tt == html.StartTagToken
			case "h1", "h2", "h3", "h4", "h5", "h6":
				if skip == 0 {
					heading = int(tag[1] - '0')
					headBuf.Reset()
				}
			case "br":
				out.WriteByte('\n')
			case "li":
				newline(1)
				out.WriteString("- ")
			case "pre":
				newline(2)
				pre++
			case "td", "th":
				out.WriteString(" ")
			case "p", "div", "section", "article", "ul", "ol", "table", "tr", "blockquote", "hr", "dl", "dt", "dd", "main", "header", "footer", "nav", "aside", "figure", "figcaption":
				newline(2)
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			tag := string(name)
			switch tag {
			case "script", "style", "noscript", "template", "svg", "head":
				if skip > 0 {
					skip--
				}
			case "title":
				inTitle = false
			case "h1", "h2", "h3", "h4", "h5", "h6":
				if heading > 0 {
					h := collapse(headBuf.String())
					if h != "" {
						newline(2)
						out.WriteString(strings.Repeat("#", heading) + " " + h + "\n\n")
						if heading == 1 && firstH1 == "" {
							firstH1 = h
						}
					}
					heading = 0
				}
			case "pre":
				if pre > 0 {
					pre--
				}
				newline(2)
			case "p", "div", "section", "article", "ul", "ol", "table", "tr", "li", "blockquote", "dl", "dd", "main", "header", "footer", "nav", "aside", "figure":
				newline(1)
			}
		case html.TextToken:
			t := string(z.Text())
			switch {
			case inTitle:
				titleBuf.WriteString(t)
			case skip > 0:
			case heading > 0:
				headBuf.WriteString(t)
			case pre > 0:
				out.WriteString(t)
			default:
				c := collapse(t)
				if c == "" {
					if strings.TrimSpace(t) == "" && len(t) > 0 {
						s := out.String()
						if len(s) > 0 && !strings.HasSuffix(s, " ") && !strings.HasSuffix(s, "\n") {
							out.WriteByte(' ')
						}
					}
					continue
				}
				if unicode.IsSpace(rune(t[0])) {
					s := out.String()
					if len(s) > 0 && !strings.HasSuffix(s, " ") && !strings.HasSuffix(s, "\n") {
						out.WriteByte(' ')
					}
				}
				// A line that starts with # is text, not a heading.
				s := out.String()
				if strings.HasPrefix(c, "#") && (len(s) == 0 || strings.HasSuffix(s, "\n")) {
					out.WriteString("\\")
				}
				out.WriteString(c)
				if unicode.IsSpace(rune(t[len(t)-1])) {
					out.WriteByte(' ')
				}
			}
		}
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// collapse replaces runs of white space with one space and trims.
func collapse(s string) string { return strings.Join(strings.Fields(s), " ") }

// errNoPDF is returned when pdftotext is not installed.
func errNoPDF(cmd string, err error) error {
	return clinic.Wrap(err, clinic.CodeUnavailable,
		fmt.Sprintf("reading PDF needs the %q command (Debian package poppler-utils), which is not installed; install it or convert the PDF to text", cmd),
		fmt.Sprintf("读取 PDF 需要 %q 命令（Debian 软件包 poppler-utils），当前未安装；请安装后重试，或先把 PDF 转为文本", cmd))
}

// pdfText extracts the text of a PDF with pdftotext, bounded by the
// ingester's timeout and output limit.
func (ing *Ingester) pdfText(ctx context.Context, data []byte) (string, error) {
	path, err := exec.LookPath(ing.pdftotext)
	if err != nil {
		return "", errNoPDF(ing.pdftotext, err)
	}
	f, err := os.CreateTemp(ing.tempDir, "yizhu-ingest-*.pdf")
	if err != nil {
		return "", fmt.Errorf("rag: pdf temp file: %w", err)
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return "", fmt.Errorf("rag: pdf temp file: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("rag: pdf temp file: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, ing.pdfTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "-enc", "UTF-8", "-q", f.Name(), "-")
	out := &limitedBuffer{limit: int(4 * ing.maxBytes)}
	var stderr limitedBuffer
	stderr.limit = 4096
	cmd.Stdout, cmd.Stderr = out, &stderr
	err = cmd.Run()
	switch {
	case ctx.Err() != nil:
		return "", clinic.Wrap(ctx.Err(), clinic.CodeUnavailable,
			fmt.Sprintf("pdftotext did not finish within %s", ing.pdfTimeout),
			fmt.Sprintf("pdftotext 未在 %s 内完成", ing.pdfTimeout))
	case out.over:
		return "", clinic.NewError(clinic.CodeTooLarge, "file", "the PDF's text is too large", "PDF 文本内容过大")
	case err != nil:
		return "", clinic.Wrap(fmt.Errorf("%w: %s", err, strings.TrimSpace(stderr.String())), clinic.CodeInvalid,
			"pdftotext could not read the PDF (damaged or encrypted?)",
			"pdftotext 无法读取该 PDF（文件损坏或已加密？）")
	}
	if !utf8.Valid(out.Bytes()) {
		return "", errEncoding
	}
	return out.String(), nil
}

// limitedBuffer keeps at most limit bytes and remembers whether more came.
type limitedBuffer struct {
	bytes.Buffer
	limit int
	over  bool
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if b.Len()+len(p) > b.limit {
		b.over = true
		room := b.limit - b.Len()
		if room > 0 {
			b.Buffer.Write(p[:room])
		}
		return len(p), nil
	}
	return b.Buffer.Write(p)
}
