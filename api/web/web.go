// Package web holds Yizhu's static pages (kiosk, doctor review, QC
// workbench, ECG monitor), embedded into the binary.
package web

import (
	"embed"
	"io/fs"
	"os"
)

//go:embed static
var static embed.FS

// FS returns the pages: the embedded copy, or dir when it is set (for
// editing pages without rebuilding).
func FS(dir string) (fs.FS, error) {
	if dir != "" {
		if _, err := os.Stat(dir); err != nil {
			return nil, err
		}
		return os.DirFS(dir), nil
	}
	return fs.Sub(static, "static")
}
