package store

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
)

// NewID returns a new random identifier: 26 characters of base32 carrying
// 128 bits from crypto/rand. Adapters use it to fill empty IDs.
func NewID() string { return rand.Text() }

// ChunkID returns the identifier a chunk gets when it is stored without one:
// derived from its collection, document and ordinal, so re-ingesting the
// same document gives the same IDs.
func ChunkID(collection, documentID string, ordinal int) string {
	h := sha256.New()
	writeField(h, collection)
	writeField(h, documentID)
	writeField(h, strconv.Itoa(ordinal))
	return "ch_" + hex.EncodeToString(h.Sum(nil)[:12])
}
