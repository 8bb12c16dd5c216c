package rag

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/yizhu-health/yizhu/clinic"
)

// SearchToolName is the name of the search tool.
const SearchToolName = "rag.search"

// Tool bounds: the size of the arguments, and of the result — at most 10
// passages of at most 800 characters keep it well under the agents
// runtime's 32 KiB result limit.
const (
	maxToolArgs = 16 << 10
	maxToolK    = 10
	// maxToolTextRunes cuts each passage's text for the model.
	maxToolTextRunes = 800
)

// SearchArgs are the arguments of rag.search.
type SearchArgs struct {
	Query      string   `json:"query"`
	K          int      `json:"k,omitempty"`
	Collection string   `json:"collection,omitempty"`
	Tags       []string `json:"tags,omitempty"`
	Mode       Mode     `json:"mode,omitempty"`
}

// ToolHit is one passage returned to the model: the citation string to
// quote, the chunk ID to cite and the text.
type ToolHit struct {
	ChunkID  string  `json:"chunk_id"`
	Citation string  `json:"citation"`
	Title    string  `json:"title"`
	Source   string  `json:"source,omitempty"`
	Heading  string  `json:"heading,omitempty"`
	Text     string  `json:"text"`
	Score    float64 `json:"score"`
}

// SearchResult is what rag.search returns.
type SearchResult struct {
	Hits []ToolHit `json:"hits"`
}

// SearchTool returns the agent tool "rag.search", which searches the
// guideline store (hybrid mode by default) and returns citable passages.
// Bad arguments give invalid errors the runtime can show to the model.
func SearchTool(r *Retriever) clinic.Tool {
	return clinic.Tool{
		Name: SearchToolName,
		Description: "Search the hospital's clinical guidelines and documentation norms " +
			"(Chinese or English query). Returns passages with a citation and chunk ID; " +
			"cite the chunk_id of every passage you rely on. 检索医院指南与病历书写规范。",
		Parameters: map[string]any{
			"type":                 "object",
			"additionalProperties": false,
			"required":             []string{"query"},
			"properties": map[string]any{
				"query": map[string]any{"type": "string", "minLength": 1, "maxLength": MaxQueryRunes,
					"description": "what to look up, e.g. 入院记录完成时限 or STEMI ST elevation criteria"},
				"k": map[string]any{"type": "integer", "minimum": 1, "maximum": maxToolK, "default": DefaultK,
					"description": "number of passages"},
				"collection": map[string]any{"type": "string", "description": "collection to search; empty = all"},
				"tags": map[string]any{"type": "array", "items": map[string]any{"type": "string"},
					"description": "passages must carry every tag"},
				"mode": map[string]any{"type": "string", "enum": []string{string(ModeHybrid), string(ModeVector), string(ModeLexical)},
					"default": string(ModeHybrid)},
			},
		},
		Call: func(ctx context.Context, raw json.RawMessage) (any, error) {
			if len(raw) > maxToolArgs {
				return nil, clinic.NewError(clinic.CodeTooLarge, "arguments", "tool arguments too large", "工具参数过大")
			}
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			var a SearchArgs
			if err := dec.Decode(&a); err != nil {
				return nil, clinic.Wrap(err, clinic.CodeInvalid,
					"arguments must be a JSON object {query, k, collection, tags, mode}",
					"参数必须是 JSON 对象 {query, k, collection, tags, mode}")
			}
			if a.K < 0 || a.K > maxToolK {
				return nil, clinic.NewError(clinic.CodeInvalid, "k",
					fmt.Sprintf("k must be in [1, %d]", maxToolK), fmt.Sprintf("k 必须在 1 到 %d 之间", maxToolK))
			}
			hits, err := r.Search(ctx, Query{Text: a.Query, Collection: a.Collection, Tags: a.Tags, K: a.K, Mode: a.Mode})
			if err != nil {
				return nil, fmt.Errorf("rag.search: %w", err)
			}
			out := SearchResult{Hits: make([]ToolHit, len(hits))}
			for i, h := range hits {
				heading := ""
				if n := len(h.HeadingPath); n > 0 {
					heading = h.HeadingPath[n-1]
				}
				out.Hits[i] = ToolHit{
					ChunkID: h.ChunkID, Citation: h.Citation(), Title: h.Title, Source: h.Source,
					Heading: heading, Text: clipRunes(h.Text, maxToolTextRunes), Score: h.Score,
				}
			}
			return out, nil
		},
	}
}

// clipRunes cuts s to at most n runes, marking the cut with "…".
func clipRunes(s string, n int) string {
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos] + "…"
		}
		i++
	}
	return s
}
