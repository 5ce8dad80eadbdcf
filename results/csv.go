package results

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
)

// ParseError reports a malformed results CSV: where (file, line, column)
// and what rule was broken.
type ParseError struct {
	File   string
	Line   int    // 1-based
	Column int    // 1-based byte offset in the line; 0 when the error is about the whole line
	Field  string // the schema column the cell belongs to, if known
	Err    error
}

func (e *ParseError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:%d", e.File, e.Line)
	if e.Column > 0 {
		fmt.Fprintf(&b, ":%d", e.Column)
	}
	b.WriteString(": ")
	if e.Field != "" {
		fmt.Fprintf(&b, "column %s: ", e.Field)
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *ParseError) Unwrap() error { return e.Err }

// WriteCSV writes rows under the schema's header (Columns). It fails,
// naming the row and column, if a value cannot be written under the schema
// (see Column.Format); nothing is written then.
func WriteCSV(w io.Writer, rows []Row) error {
	cols := Columns()
	cells := make([][]string, 0, len(rows)+1)
	cells = append(cells, ColumnNames())
	for i := range rows {
		rec := make([]string, len(cols))
		for j, c := range cols {
			s, err := c.Format(&rows[i])
			if err != nil {
				return fmt.Errorf("row %d (%s on %s): column %s: %w", i+1, rows[i].Spec, rows[i].Target, c.Name, err)
			}
			rec[j] = s
		}
		cells = append(cells, rec)
	}
	cw := csv.NewWriter(w)
	if err := cw.WriteAll(cells); err != nil {
		return fmt.Errorf("writing results CSV: %w", err)
	}
	return nil
}

// ReadCSV reads a results CSV written under this SchemaVersion. name is
// what errors call the input (a file name). The header must hold exactly
// the schema's columns, in any order; an unknown, missing or repeated
// column is an error that lists the schema. Errors are *ParseError naming
// file:line:column.
func ReadCSV(r io.Reader, name string) ([]Row, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err == io.EOF {
		return nil, &ParseError{File: name, Line: 1, Err: fmt.Errorf("empty file; want a header with the %s", schemaList())}
	}
	if err != nil {
		return nil, csvError(name, err)
	}
	cols := Columns()
	idx, err := mapHeader(cr, name, header, cols)
	if err != nil {
		return nil, err
	}

	var rows []Row
	aliasOf := make([]int, len(header)) // header position of the column an alias repeats, or -1
	for i := range header {
		aliasOf[i] = -1
		if a := cols[idx[i]].alias; a != "" {
			aliasOf[i] = headerIndex(header, a)
		}
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return rows, nil
		}
		if err != nil {
			return nil, csvError(name, err)
		}
		row := Row{}
		for i, cell := range rec {
			c := cols[idx[i]]
			if aliasOf[i] >= 0 {
				continue
			}
			if err := c.parse(&row, cell); err != nil {
				line, col := cr.FieldPos(i)
				return nil, &ParseError{File: name, Line: line, Column: col, Field: c.Name, Err: err}
			}
		}
		for i, a := range aliasOf {
			if a < 0 {
				continue
			}
			c := cols[idx[i]]
			v, err := parseFloatCell(rec[i])
			if err == nil && !sameFloat(v, *c.float(&row)) {
				err = fmt.Errorf("%q differs from %s %q; the two columns hold the same figure", rec[i], c.alias, rec[a])
			}
			if err != nil {
				line, col := cr.FieldPos(i)
				return nil, &ParseError{File: name, Line: line, Column: col, Field: c.Name, Err: err}
			}
		}
		rows = append(rows, row)
	}
}

// mapHeader maps each header position to its schema column in cols,
// dropping a leading byte-order mark (spreadsheet programs put one in
// front). An unknown or repeated column is a ParseError at its position, a
// missing one a ParseError on line 1; each lists the schema.
func mapHeader(cr *csv.Reader, name string, header []string, cols []Column) ([]int, error) {
	header[0] = strings.TrimPrefix(header[0], "\ufeff")
	idx := make([]int, len(header)) // header position -> schema column
	seen := make([]bool, len(cols))
	for i, h := range header {
		j := columnIndex(cols, h)
		if j < 0 {
			line, col := cr.FieldPos(i)
			return nil, &ParseError{File: name, Line: line, Column: col, Err: fmt.Errorf("unknown column %q (%s)", h, schemaList())}
		}
		if seen[j] {
			line, col := cr.FieldPos(i)
			return nil, &ParseError{File: name, Line: line, Column: col, Err: fmt.Errorf("column %q appears twice", h)}
		}
		seen[j] = true
		idx[i] = j
	}
	var missing []string
	for j, ok := range seen {
		if !ok {
			missing = append(missing, cols[j].Name)
		}
	}
	if missing != nil {
		return nil, &ParseError{File: name, Line: 1, Err: fmt.Errorf("missing columns %s (%s)", strings.Join(missing, ", "), schemaList())}
	}
	return idx, nil
}

// csvError converts an encoding/csv error (a bare quote, a wrong number
// of fields) to a ParseError naming the file.
func csvError(name string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &ParseError{File: name, Line: pe.Line, Column: pe.Column, Err: pe.Err}
	}
	return fmt.Errorf("%s: %w", name, err)
}

func columnIndex(cols []Column, name string) int {
	for j, c := range cols {
		if c.Name == name {
			return j
		}
	}
	return -1
}

func headerIndex(header []string, name string) int {
	for i, h := range header {
		if h == name {
			return i
		}
	}
	return -1
}

// sameFloat is equality with NaN (not applicable) equal to itself.
func sameFloat(a, b float64) bool {
	return a == b || (math.IsNaN(a) && math.IsNaN(b))
}

// ReadCSVFile reads the results CSV at path (see ReadCSV).
func ReadCSVFile(path string) ([]Row, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadCSV(bufio.NewReader(f), path)
}

// WriteFileAtomic writes the file at path through write: the data goes to
// a temporary file in the same directory, which is synced and renamed over
// path only when write succeeds. On any error (or a panic in write) the
// temporary file is removed and path is left as it was, so readers never
// see a half-written file. A process killed mid-write can leave the
// temporary file ("." + base + ".tmp-*") behind, never a partial path;
// WriteFileAtomicTracked lets a signal handler remove it. When path is a
// symbolic link, the file it points to is written (the link stays); when
// it is a device or a pipe (/dev/stdout, /dev/null), it is written in
// place.
func WriteFileAtomic(path string, write func(io.Writer) error) error {
	return WriteFileAtomicTracked(path, nil, write)
}

// TempTracker learns of the temporary files WriteFileAtomicTracked
// creates, so that a signal handler can remove them: Add is called when
// one is created, Remove when it is renamed or removed.
type TempTracker interface {
	Add(tmp string)
	Remove(tmp string)
}

// ResolveOutput returns the file path names: path itself, or, when path
// is a symbolic link (dangling or not), the file the link points to,
// followed through every link; a path that names a device or pipe
// (/dev/stdout) is returned as is.
func ResolveOutput(path string) (string, error) {
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() && !fi.IsDir() {
		return path, nil // a device or pipe, e.g. /dev/stdout: written in place
	}
	for range 64 {
		fi, err := os.Lstat(path)
		if err != nil || fi.Mode()&os.ModeSymlink == 0 {
			return path, nil
		}
		dst, err := os.Readlink(path)
		if err != nil {
			return "", err
		}
		if !filepath.IsAbs(dst) {
			dst = filepath.Join(filepath.Dir(path), dst)
		}
		path = dst
	}
	return "", fmt.Errorf("%s: too many levels of symbolic links", path)
}

// writeInPlace writes to the existing non-regular file target (named
// path in errors).
func writeInPlace(target, path string, write func(io.Writer) error) error {
	f, err := os.OpenFile(target, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	bw := bufio.NewWriter(f)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// WriteFileAtomicTracked is WriteFileAtomic telling t (if not nil) about
// its temporary file.
func WriteFileAtomicTracked(path string, t TempTracker, write func(io.Writer) error) (err error) {
	target, err := ResolveOutput(path)
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if fi, err := os.Stat(target); err == nil && !fi.Mode().IsRegular() && !fi.IsDir() {
		// A device or pipe (/dev/stdout, /dev/null, a FIFO): written in
		// place; renaming a file over it would replace the device.
		return writeInPlace(target, path, write)
	}
	dir := filepath.Dir(target)
	f, err := os.CreateTemp(dir, "."+filepath.Base(target)+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	tmp := f.Name()
	if t != nil {
		t.Add(tmp)
		defer t.Remove(tmp)
	}
	done := false
	defer func() {
		if !done {
			f.Close()
			os.Remove(tmp)
		}
	}()
	bw := bufio.NewWriter(f)
	if err := write(bw); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	// CreateTemp makes the file private; results are meant to be shared.
	if err := f.Chmod(0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp, target); err != nil {
		os.Remove(tmp)
		done = true
		return fmt.Errorf("writing %s: %w", path, err)
	}
	done = true
	return nil
}
