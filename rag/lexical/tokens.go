package lexical

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"
)

// maxTokenRunes bounds one Latin word; longer runs are cut into pieces.
const maxTokenRunes = 40

// englishStop are function words that carry no retrieval signal.
var englishStop = map[string]bool{
	"a": true, "an": true, "the": true, "of": true, "and": true, "or": true, "to": true,
	"in": true, "on": true, "at": true, "for": true, "by": true, "is": true, "are": true,
	"be": true, "was": true, "were": true, "with": true, "what": true, "which": true,
	"when": true, "how": true, "does": true, "do": true, "it": true, "its": true,
	"as": true, "that": true, "this": true, "from": true, "should": true, "must": true,
}

// IsCJK reports whether r is written without spaces between words
// (Han ideographs, kana, hangul); such runs are indexed as unigrams and
// bigrams.
func IsCJK(r rune) bool {
	return unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) ||
		unicode.Is(unicode.Katakana, r) || unicode.Is(unicode.Hangul, r)
}

// Fold maps full-width forms to their narrow equivalents (ＡＢＣ１２ → abc12)
// and lower-cases, so that text typed with a Chinese input method matches
// ASCII text.
func Fold(s string) string {
	return strings.ToLower(width.Fold.String(s))
}

// Tokens appends the index terms of text to dst and returns it: for runs of
// CJK characters every character and every pair of adjacent characters, for
// other letters and digits whole lower-cased words (English stop words
// dropped, a plural "s" stripped). A decimal point or hyphen between digits
// stays inside the word, so "3.9" and "30-60" are single terms.
func Tokens(dst []string, text string) []string {
	text = Fold(text)
	var prev rune // previous CJK rune in the current run, 0 if none
	wordStart := -1
	flush := func(end int) {
		if wordStart < 0 {
			return
		}
		w := text[wordStart:end]
		wordStart = -1
		for utf8.RuneCountInString(w) > maxTokenRunes {
			cut := 0
			for i := 0; i < maxTokenRunes; i++ {
				_, n := utf8.DecodeRuneInString(w[cut:])
				cut += n
			}
			dst = append(dst, w[:cut])
			w = w[cut:]
		}
		if englishStop[w] {
			return
		}
		if len(w) > 3 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") && !isDigit(w[len(w)-2]) {
			w = w[:len(w)-1]
		}
		dst = append(dst, w)
	}
	for i, r := range text {
		switch {
		case IsCJK(r):
			flush(i)
			dst = append(dst, string(r))
			if prev != 0 {
				dst = append(dst, string(prev)+string(r))
			}
			prev = r
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			prev = 0
			if wordStart < 0 {
				wordStart = i
			}
		case (r == '.' || r == '-') && wordStart >= 0 && i > 0 && isDigit(text[i-1]) && i+1 < len(text) && isDigit(text[i+1]):
			// keep 3.9 and 30-60 together
		default:
			prev = 0
			flush(i)
		}
	}
	flush(len(text))
	return dst
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
