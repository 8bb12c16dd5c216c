package api

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/yizhu-health/yizhu/clinic"
	"github.com/yizhu-health/yizhu/store"
)

// recordReader is the part of the store that loadJSON needs: the store
// itself or a transaction.
type recordReader interface {
	Record(ctx context.Context, kind, id string) (store.Record, error)
}

// loadJSON reads the stored record kind/id and decodes its JSON body into
// a T. When notFoundEN is set, a missing record is a not_found error on the
// field "id" with that message (and notFoundZH); otherwise the store's own
// error comes back. A body that does not decode is an internal error naming
// the record: stored bodies are written by this package, so it means
// corruption or a schema change, not bad input.
func loadJSON[T any](ctx context.Context, rs recordReader, kind, id, notFoundEN, notFoundZH string) (T, store.Record, error) {
	var v T
	r, err := rs.Record(ctx, kind, id)
	if notFoundEN != "" && clinic.ErrorCode(err) == clinic.CodeNotFound {
		return v, r, clinic.NewError(clinic.CodeNotFound, "id", notFoundEN, notFoundZH)
	}
	if err != nil {
		return v, r, err
	}
	if err := json.Unmarshal(r.Body, &v); err != nil {
		return v, r, fmt.Errorf("api: decode %s record %s: %w", kind, id, err)
	}
	return v, r, nil
}
