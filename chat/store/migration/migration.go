// Package migration reads a store's schema history from files embedded in
// the binary. Files are named NNNN_description.sql; NNNN is the version,
// applied in ascending order, and a released file is never edited: a
// change is a new file. Each store applies the migrations its own way (its
// driver, its locking); what a history is and how it is read is shared.
package migration

import (
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
)

// Migration is one step of a schema history.
type Migration struct {
	Version int
	Name    string // the file name, for errors and the schema_migrations table
	SQL     string
}

// Load reads the files of fsys matching pattern and returns them ordered
// by version. A name without a positive version, or two files with one
// version, is an error: the history must be unambiguous.
func Load(fsys fs.FS, pattern string) ([]Migration, error) {
	names, err := fs.Glob(fsys, pattern)
	if err != nil {
		return nil, err
	}
	ms := make([]Migration, 0, len(names))
	seen := make(map[int]string, len(names))
	for _, name := range names {
		base := path.Base(name)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must start with a positive version number and '_'", base)
		}
		if other, dup := seen[v]; dup {
			return nil, fmt.Errorf("migrations %s and %s share version %d", other, base, v)
		}
		seen[v] = base
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, Migration{Version: v, Name: base, SQL: string(body)})
	}
	slices.SortFunc(ms, func(a, b Migration) int { return a.Version - b.Version })
	return ms, nil
}
