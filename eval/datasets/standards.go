package datasets

import (
	"io"
	"strings"
)

// DataElement is one row of a national EMR data-set element list (WS
// 445-2014 电子病历基本数据集, WS/T 500-2016 shared documents): which data
// element a record type carries, with its identifiers, type and format.
// The CSV columns are 数据集名称, 内部标识符, 数据元标识符, 数据集中文名,
// 数据类型, 表示格式, 数据集定义.
type DataElement struct {
	DataSet    string `json:"data_set"`    // 数据集名称, the record type (入院记录, …)
	InternalID string `json:"internal_id"` // 内部标识符, HDSD…
	ElementID  string `json:"element_id"`  // 数据元标识符, DE…
	Name       string `json:"name"`        // 数据集中文名, the element's name (主诉, …)
	DataType   string `json:"data_type"`   // 数据类型 (S1, S3, DT, N, …)
	Format     string `json:"format"`      // 表示格式 (AN..18, …)
	Definition string `json:"definition"`  // 数据集定义
	Line       int    `json:"line"`
}

// ScanDataElements streams one data-set element CSV. Rows need a data-set
// name, an internal identifier and an element name.
func ScanDataElements(r io.Reader, name string, lim Limits, fn func(DataElement) error) error {
	cols := []string{"数据集名称", "内部标识符", "数据元标识符", "数据集中文名", "数据类型", "表示格式", "数据集定义"}
	return scanCSV(r, name, lim, cols, func(row csvRow) error {
		e := DataElement{
			DataSet:    strings.TrimSpace(row.get(cols[0])),
			InternalID: strings.TrimSpace(row.get(cols[1])),
			ElementID:  strings.TrimSpace(row.get(cols[2])),
			Name:       strings.TrimSpace(row.get(cols[3])),
			DataType:   strings.TrimSpace(row.get(cols[4])),
			Format:     strings.TrimSpace(row.get(cols[5])),
			Definition: strings.TrimSpace(row.get(cols[6])),
			Line:       row.line,
		}
		if err := requireText(name, row.line, cols[0], e.DataSet, cols[1], e.InternalID, cols[3], e.Name); err != nil {
			return err
		}
		return fn(e)
	})
}
