package postgres

// SearchSQL exposes searchSQL to the external tests, which EXPLAIN it.
var SearchSQL = searchSQL
