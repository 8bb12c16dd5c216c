package qc

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// runeSpan converts a byte span of s to rune offsets.
func runeSpan(s string, startByte, endByte int) (int, int) {
	start := utf8.RuneCountInString(s[:startByte])
	return start, start + utf8.RuneCountInString(s[startByte:endByte])
}

// isBlank reports whether s has no letters, digits or ideographs.
func isBlank(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return false
		}
	}
	return true
}

// isClauseBreak reports whether r ends a clause for negation scope.
func isClauseBreak(r rune) bool {
	switch r {
	case '，', '。', '；', ';', ',', '！', '？', '!', '?', '\n', '\r':
		return true
	}
	return false
}

// negator decides whether a term occurrence is negated: a cue (无, 否认,
// 未, 没有, 不伴, …) earlier in the same clause, not part of a
// pseudo-negation (无明显诱因 …) and not cut off by a scope terminator
// (出现, 但, …) between the cue and the term. This is a NegEx-style rule
// (Chapman et al., 2001) adapted to Chinese clause punctuation.
type negator struct {
	cues        []string // longest first
	pseudo      []string
	terminators []string
}

func newNegator(cues, pseudo, terminators []string) *negator {
	n := &negator{cues: sortLongestFirst(cues), pseudo: pseudo, terminators: terminators}
	return n
}

func sortLongestFirst(in []string) []string {
	out := append([]string(nil), in...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && len(out[j]) > len(out[j-1]); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// negated reports whether the occurrence at byte offset at in s is negated.
func (n *negator) negated(s string, at int) bool {
	// Clause start: just after the last break before at.
	start := 0
	for i := at; i > 0; {
		r, size := utf8.DecodeLastRuneInString(s[:i])
		if isClauseBreak(r) {
			start = i
			break
		}
		i -= size
	}
	clause := s[start:at]
	// Find the last cue in the clause that is not a pseudo-negation.
	best := -1
	bestLen := 0
	for i := 0; i < len(clause); {
		matched := false
		for _, c := range n.cues {
			if strings.HasPrefix(clause[i:], c) {
				if !n.isPseudo(s[start+i:]) {
					best, bestLen = i, len(c)
				}
				i += len(c)
				matched = true
				break
			}
		}
		if !matched {
			_, size := utf8.DecodeRuneInString(clause[i:])
			i += size
		}
	}
	if best < 0 {
		return false
	}
	between := clause[best+bestLen:]
	for _, t := range n.terminators {
		if strings.Contains(between, t) {
			return false
		}
	}
	return true
}

func (n *negator) isPseudo(rest string) bool {
	for _, p := range n.pseudo {
		if strings.HasPrefix(rest, p) {
			return true
		}
	}
	return false
}

func decodeLastRune(s string) (rune, int) { return utf8.DecodeLastRuneInString(s) }
