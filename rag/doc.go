// Package rag is Yizhu's guideline store: it ingests guideline documents
// (Markdown, plain text, HTML, PDF through pdftotext), cuts them into
// Chinese-aware chunks, embeds them, keeps them in a store.Chunks adapter,
// and answers hybrid searches whose every hit can be cited.
//
// # Ingest
//
// An [Ingester] reads a file (or bytes, or an fs.FS tree), detects its
// format and encoding (UTF-8, UTF-16 with a BOM, or GB18030/GBK, which is
// converted), rejects binary, empty and oversize input with *clinic.Error
// values, splits the text with package chunk, embeds the chunks and writes
// them with store.Chunks.ReplaceDocument, which replaces a changed
// document's chunks atomically. The content hash covers the normalised
// text, the chunking options and the embedder's name, so an unchanged
// document is skipped without being embedded again. Chunk IDs are derived
// from (collection, document ID, ordinal) and are stable across
// re-ingests.
//
// # Retrieval
//
// A [Retriever] answers a [Query] in one of three modes: vector (cosine
// similarity through store.Chunks.SearchVectors), lexical (an in-process
// BM25 index, package lexical, over Chinese characters and bigrams and
// English words) or hybrid, which fuses both rankings by reciprocal rank
// fusion, score(d) = Σ 1/(60 + rank(d)) (Cormack, Clarke & Büttcher, SIGIR
// 2009). The lexical index is built from store.Chunks.ScanChunks on first
// use and updated by the Ingester it is given to; with several replicas on
// one database, call [Retriever.Load] to pick up other replicas' writes.
// Every [Hit] carries the stable chunk ID, the document title, the
// guideline it comes from and the heading path; [Hit.Citation] formats
// them.
//
// # Evaluation and tools
//
// [Evaluate] measures recall@5 and MRR of each mode on a question set
// whose gold answers are (document, heading) pairs, so it survives
// re-chunking; the starter corpus and its questions live in rag/corpus.
// [SearchTool] exposes search to the agents as the tool "rag.search".
package rag
