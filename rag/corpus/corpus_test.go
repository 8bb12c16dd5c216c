package corpus_test

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/yizhu-health/yizhu/rag/chunk"
	"github.com/yizhu-health/yizhu/rag/corpus"
)

var datePattern = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// TestNotes checks every note's front matter and size: the corpus promises
// a named source, version, effective date and tags for each note, and
// short notes (at most 900 characters of Chinese text).
func TestNotes(t *testing.T) {
	files, err := fs.Glob(corpus.FS(), "*.md")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 40 {
		t.Fatalf("%d notes, want at least 40", len(files))
	}
	english := 0
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			data, err := fs.ReadFile(corpus.FS(), f)
			if err != nil {
				t.Fatal(err)
			}
			if !utf8.Valid(data) {
				t.Fatal("not UTF-8")
			}
			m, body := chunk.FrontMatter(string(data))
			switch {
			case m.Title == "", m.Source == "", m.Version == "", len(m.Tags) == 0:
				t.Errorf("incomplete front matter: %+v", m)
			case !datePattern.MatchString(m.EffectiveDate):
				t.Errorf("effective_date %q is not YYYY-MM-DD", m.EffectiveDate)
			}
			if !strings.HasPrefix(strings.TrimSpace(body), "# ") {
				t.Errorf("body does not start with a level-1 heading")
			}
			n := utf8.RuneCountInString(body)
			isEnglish := n == len(body) || strings.Count(body, " ") > n/8
			if isEnglish {
				english++
			}
			if n < 300 || !isEnglish && n > 900 || isEnglish && n > 1600 {
				t.Errorf("body has %d characters, want 300–900 (English up to 1600)", n)
			}
		})
	}
	if english == 0 || english*3 > len(files) {
		t.Errorf("%d of %d notes are English, want some but a minority", english, len(files))
	}
}

func TestQuestionsCopy(t *testing.T) {
	a := corpus.Questions()
	if len(a) == 0 {
		t.Fatal("no questions")
	}
	a[0] = 'X'
	if corpus.Questions()[0] == 'X' {
		t.Error("Questions shares its buffer with the caller")
	}
}
