// Package corpus is the starter guideline corpus of the guideline store:
// short notes, written for Yizhu in its own words, on documentation norms
// for outpatient and inpatient records, the Chinese 4-level emergency
// pre-triage scale and its red flags, a general hospital's department
// guide, STEMI ECG criteria and ECG critical values, hypertension and
// diabetes community follow-up, and lung-nodule follow-up. Every note names
// the standard or guideline each fact comes from. It also holds the
// retrieval question set used by rag.Evaluate.
//
// # Files
//
// docs/*.md are Markdown with front matter (title, source, version,
// effective_date, tags); the document ID is the file name without ".md".
// effective_date is the date a regulation took effect where the issuing
// body set one; for guidelines and consensus statements published in
// journals it is the first day of the publication year, because the notes
// record only the year. questions.jsonl holds one rag.Question per line,
// with gold answers given as (document ID, heading).
//
// The notes are a starting point for a hospital's own knowledge base, not
// a substitute for the original documents.
package corpus

import (
	"embed"
	"io/fs"
)

//go:embed docs/*.md
var docs embed.FS

//go:embed questions.jsonl
var questions []byte

// FS returns the notes as a file system whose root holds the .md files.
func FS() fs.FS {
	sub, err := fs.Sub(docs, "docs")
	if err != nil {
		// fs.Sub fails only for an invalid path literal.
		panic("corpus: " + err.Error())
	}
	return sub
}

// Questions returns the question set (JSONL, see rag.LoadQuestions).
func Questions() []byte {
	out := make([]byte, len(questions))
	copy(out, questions)
	return out
}
