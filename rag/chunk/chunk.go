// Package chunk cuts guideline documents into retrievable passages. It
// keeps the Markdown heading path of each passage, never cuts inside a
// sentence (Chinese sentences end with 。！？；, English ones with . ! ?
// followed by a space) unless one sentence alone exceeds the size, and
// reads the document's front matter (see [FrontMatter]).
//
// # Sizes
//
// Size and Overlap count characters (runes), not bytes: a 400-character
// chunk is 400 Chinese characters or 400 letters. Consecutive chunks of a
// section share up to Overlap characters of whole sentences. Chunks never
// span two sections, so every chunk has exactly one heading path.
package chunk

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/yizhu-health/yizhu/clinic"
)

// Bounds and defaults of [Options].
const (
	DefaultSize    = 400
	DefaultOverlap = 60
	MinSize        = 20
	MaxSize        = 20000
	maxHeadingRune = 200
	maxDepth       = 6
)

// Options controls splitting.
type Options struct {
	// Size is the largest chunk in runes, in [MinSize, MaxSize].
	Size int
	// Overlap is how many runes of whole trailing sentences a chunk repeats
	// from the previous chunk of the same section; 0 = none, at most Size/2.
	Overlap int
	// Plain disables Markdown: "#" lines are text, not headings.
	Plain bool
}

// Defaults returns the options used when none are given: 400 runes with a
// 60-rune overlap, Markdown headings on.
func Defaults() Options { return Options{Size: DefaultSize, Overlap: DefaultOverlap} }

// Validate returns an invalid error for out-of-range options.
func (o Options) Validate() error {
	if o.Size < MinSize || o.Size > MaxSize {
		return clinic.NewError(clinic.CodeInvalid, "chunk_size",
			fmt.Sprintf("chunk size must be in [%d, %d] characters, got %d", MinSize, MaxSize, o.Size),
			fmt.Sprintf("分块大小必须在 %d 到 %d 个字符之间，实际为 %d", MinSize, MaxSize, o.Size))
	}
	if o.Overlap < 0 || o.Overlap > o.Size/2 {
		return clinic.NewError(clinic.CodeInvalid, "chunk_overlap",
			fmt.Sprintf("chunk overlap must be in [0, %d] characters, got %d", o.Size/2, o.Overlap),
			fmt.Sprintf("分块重叠必须在 0 到 %d 个字符之间，实际为 %d", o.Size/2, o.Overlap))
	}
	return nil
}

// String gives the options in a form used in content hashes.
func (o Options) String() string {
	return fmt.Sprintf("size=%d,overlap=%d,plain=%t", o.Size, o.Overlap, o.Plain)
}

// Chunk is one passage. Text is exactly text[Start:End] of the string that
// was split, with no leading or trailing white space.
type Chunk struct {
	Ordinal     int      // 0, 1, 2, … in document order
	HeadingPath []string // enclosing headings, outermost first; nil outside any
	Text        string
	Start, End  int // byte offsets
}

// unit is a sentence (or a piece of an overlong one): text[start:end] with
// its rune offsets.
type unit struct {
	start, end   int
	rStart, rEnd int
}

type section struct {
	path  []string
	units []unit
}

// Split cuts text (a Markdown or plain body, front matter already removed)
// into chunks. It returns an error only for invalid options; text without
// any letters gives no chunks.
func Split(text string, o Options) ([]Chunk, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	secs := sections(text, o)
	var out []Chunk
	for _, s := range secs {
		units := splitLong(text, s.units, o.Size)
		for _, c := range pack(units, o) {
			out = append(out, Chunk{
				Ordinal:     len(out),
				HeadingPath: s.path,
				Text:        text[c.start:c.end],
				Start:       c.start,
				End:         c.end,
			})
		}
	}
	return out, nil
}

type heading struct {
	level int
	text  string
}

// sections walks the lines of text, tracking headings and code fences, and
// returns the sentence units of each section.
func sections(text string, o Options) []section {
	var secs []section
	var stack []heading
	cur := section{}
	inFence := false
	fenceMark := ""
	runePos := 0 // rune offset of lineStart
	for lineStart := 0; lineStart < len(text); {
		lineEnd := strings.IndexByte(text[lineStart:], '\n')
		next := len(text)
		if lineEnd < 0 {
			lineEnd = len(text)
		} else {
			lineEnd += lineStart
			next = lineEnd + 1
		}
		line := text[lineStart:lineEnd]
		if !o.Plain {
			trimmed := strings.TrimLeft(line, " ")
			if len(line)-len(trimmed) <= 3 {
				if m := fence(trimmed); m != "" {
					if !inFence {
						inFence, fenceMark = true, m
					} else if strings.HasPrefix(trimmed, fenceMark) && strings.TrimSpace(strings.TrimLeft(trimmed, fenceMark[:1])) == "" {
						inFence = false
					}
				} else if !inFence {
					if lvl, h, ok := atxHeading(trimmed); ok {
						if len(cur.units) > 0 {
							secs = append(secs, cur)
						}
						for len(stack) > 0 && stack[len(stack)-1].level >= lvl {
							stack = stack[:len(stack)-1]
						}
						if h != "" {
							stack = append(stack, heading{lvl, h})
						}
						cur = section{path: pathOf(stack)}
						runePos += utf8.RuneCountInString(text[lineStart:next])
						lineStart = next
						continue
					}
				}
			}
		}
		cur.units = appendSentences(cur.units, text, lineStart, lineEnd, runePos)
		runePos += utf8.RuneCountInString(text[lineStart:next])
		lineStart = next
	}
	if len(cur.units) > 0 {
		secs = append(secs, cur)
	}
	return secs
}

func pathOf(stack []heading) []string {
	if len(stack) == 0 {
		return nil
	}
	p := make([]string, len(stack))
	for i, h := range stack {
		p[i] = h.text
	}
	return p
}

// fence returns the fence marker (``` or ~~~) that opens or closes a code
// block on this line, or "".
func fence(line string) string {
	for _, m := range []string{"```", "~~~"} {
		if strings.HasPrefix(line, m) {
			return m
		}
	}
	return ""
}

// atxHeading parses "## text ##" (CommonMark ATX heading, at most 6 #).
func atxHeading(line string) (level int, text string, ok bool) {
	for level < len(line) && line[level] == '#' {
		level++
	}
	if level == 0 || level > maxDepth {
		return 0, "", false
	}
	rest := line[level:]
	if rest != "" && rest[0] != ' ' && rest[0] != '\t' {
		return 0, "", false
	}
	rest = strings.TrimSpace(rest)
	// closing sequence: " ##" at the end
	if t := strings.TrimRight(rest, "#"); len(t) < len(rest) && (t == "" || strings.HasSuffix(t, " ")) {
		rest = strings.TrimSpace(t)
	}
	if utf8.RuneCountInString(rest) > maxHeadingRune {
		rs := []rune(rest)
		rest = string(rs[:maxHeadingRune])
	}
	return level, rest, true
}

// isTerminator reports whether r ends a sentence on its own (Chinese) or
// when followed by white space (ASCII).
func isCJKTerminator(r rune) bool {
	switch r {
	case '。', '！', '？', '；', '…':
		return true
	}
	return false
}

func isASCIITerminator(r rune) bool { return r == '.' || r == '!' || r == '?' }

func isCloser(r rune) bool {
	switch r {
	case '”', '’', '」', '』', '）', ')', ']', '"', '\'', '》':
		return true
	}
	return false
}

// appendSentences appends the sentences of text[start:end] (one line) as
// trimmed units; runeBase is the rune offset of start.
func appendSentences(units []unit, text string, start, end, runeBase int) []unit {
	line := text[start:end]
	sentStart := -1 // byte offset within line
	rSentStart := 0
	r := 0 // rune offset within line
	lastNonSpace, rLastNonSpace := 0, 0
	emit := func() {
		if sentStart >= 0 {
			units = append(units, unit{
				start: start + sentStart, end: start + lastNonSpace,
				rStart: runeBase + rSentStart, rEnd: runeBase + rLastNonSpace,
			})
		}
		sentStart = -1
	}
	for i := 0; i < len(line); {
		c, n := utf8.DecodeRuneInString(line[i:])
		if !unicode.IsSpace(c) {
			if sentStart < 0 {
				sentStart, rSentStart = i, r
			}
			lastNonSpace, rLastNonSpace = i+n, r+1
		}
		i += n
		r++
		end := false
		if isCJKTerminator(c) || isASCIITerminator(c) {
			// absorb further terminators and closing quotes
			for i < len(line) {
				c2, n2 := utf8.DecodeRuneInString(line[i:])
				if !isCJKTerminator(c2) && !isASCIITerminator(c2) && !isCloser(c2) {
					break
				}
				i += n2
				r++
				lastNonSpace, rLastNonSpace = i, r
			}
			if isCJKTerminator(c) {
				end = true
			} else if i < len(line) {
				c2, _ := utf8.DecodeRuneInString(line[i:])
				end = unicode.IsSpace(c2)
			}
		}
		if end {
			emit()
		}
	}
	emit()
	return units
}

// splitLong cuts every unit longer than size runes into pieces of at most
// size runes, preferring to cut after a comma, colon or space in the second
// half of the window.
func splitLong(text string, units []unit, size int) []unit {
	var out []unit
	for _, u := range units {
		for u.rEnd-u.rStart > size {
			// walk size runes from u.start
			cut, rcut := u.start, u.rStart
			soft, rsoft := -1, 0
			for k := 0; k < size; k++ {
				c, n := utf8.DecodeRuneInString(text[cut:])
				cut += n
				rcut++
				if k >= size/2 && isSoftBreak(c) {
					soft, rsoft = cut, rcut
				}
			}
			if soft > 0 {
				cut, rcut = soft, rsoft
			}
			piece := trimUnit(text, unit{start: u.start, end: cut, rStart: u.rStart, rEnd: rcut})
			if piece.end > piece.start {
				out = append(out, piece)
			}
			u = trimUnit(text, unit{start: cut, end: u.end, rStart: rcut, rEnd: u.rEnd})
		}
		if u.end > u.start {
			out = append(out, u)
		}
	}
	return out
}

func isSoftBreak(r rune) bool {
	switch r {
	case '，', '、', '：', ',', ':', ' ', '\t':
		return true
	}
	return false
}

// trimUnit removes white space at both ends of u, keeping rune offsets in
// step.
func trimUnit(text string, u unit) unit {
	for u.start < u.end {
		c, n := utf8.DecodeRuneInString(text[u.start:u.end])
		if !unicode.IsSpace(c) {
			break
		}
		u.start += n
		u.rStart++
	}
	for u.end > u.start {
		c, n := utf8.DecodeLastRuneInString(text[u.start:u.end])
		if !unicode.IsSpace(c) {
			break
		}
		u.end -= n
		u.rEnd--
	}
	return u
}

// pack groups consecutive units into spans of at most o.Size runes,
// starting each span after the first with up to o.Overlap runes of whole
// units from the end of the previous span.
func pack(units []unit, o Options) []unit {
	var out []unit
	span := func(i, j int) int { return units[j].rEnd - units[i].rStart }
	for i := 0; i < len(units); {
		j := i
		for j+1 < len(units) && span(i, j+1) <= o.Size {
			j++
		}
		out = append(out, unit{start: units[i].start, end: units[j].end, rStart: units[i].rStart, rEnd: units[j].rEnd})
		if j+1 >= len(units) {
			break
		}
		// next span: the shortest suffix of i..j within Overlap that still
		// leaves room for unit j+1; otherwise start fresh at j+1.
		k := j + 1
		for k-1 > i && span(k-1, j) <= o.Overlap && span(k-1, j+1) <= o.Size {
			k--
		}
		i = k
	}
	return out
}
