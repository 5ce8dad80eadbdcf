package sim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"strconv"
	"strings"
)

// FieldError is a problem with one field of a configuration: its JSON
// name (dotted for nested objects, "" for the document as a whole) and
// the rule it breaks, stated so a user can fix it.
type FieldError struct {
	Field string
	Rule  string
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return e.Rule
	}
	return e.Field + ": " + e.Rule
}

// MaxConfigBytes bounds a configuration document: presets are a few
// kilobytes.
const MaxConfigBytes = 1 << 20

// DecodeConfig applies data, one JSON object of overrides, onto *v, a
// struct whose fields carry json tags; fields the object leaves out keep
// their values. Unlike encoding/json it is strict, because a typo in a
// hardware file would otherwise silently keep the preset's value: the
// document must be exactly one object (not null, nothing after it); every
// key must be a field's exact name (no case folding), given once, with a
// value that is not null; numbers must fit their field. Errors are
// *FieldError naming the field.
func DecodeConfig(data []byte, v any) error {
	if len(data) > MaxConfigBytes {
		return &FieldError{"", fmt.Sprintf("%d bytes: a configuration is at most %d", len(data), MaxConfigBytes)}
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("sim.DecodeConfig: want a pointer to a struct, got %T", v)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return &FieldError{"", "not JSON: " + jsonMsg(err)}
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return &FieldError{"", fmt.Sprintf("want a JSON object {...}, got %s", tokenText(tok))}
	}
	if err := checkObject(dec, rv.Elem().Type(), ""); err != nil {
		return err
	}
	if rest := bytes.TrimSpace(data[dec.InputOffset():]); len(rest) > 0 {
		return &FieldError{"", fmt.Sprintf("trailing data after the JSON object: %q", prefix(rest, 20))}
	}
	if err := json.Unmarshal(data, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return &FieldError{te.Field, fmt.Sprintf("want a %s, got JSON %s", typeWord(te.Type), te.Value)}
		}
		return &FieldError{"", jsonMsg(err)}
	}
	return nil
}

// checkObject walks the members of an object whose '{' was read, checking
// its keys against struct type t.
func checkObject(dec *json.Decoder, t reflect.Type, path string) error {
	fields := jsonFields(t)
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return &FieldError{path, "not JSON: " + jsonMsg(err)}
		}
		key, _ := tok.(string)
		name := join(path, key)
		ft, ok := fields[key]
		if !ok {
			return &FieldError{name, "unknown field (names are exact and lower-case; allowed: " + strings.Join(fieldNames(t), ", ") + ")"}
		}
		if seen[key] {
			return &FieldError{name, "given twice"}
		}
		seen[key] = true
		tok, err = dec.Token()
		if err != nil {
			return &FieldError{name, "not JSON: " + jsonMsg(err)}
		}
		switch d := tok.(type) {
		case nil:
			return &FieldError{name, "null is not a value (leave the field out to keep the preset's)"}
		case json.Delim:
			if d == '{' && ft.Kind() == reflect.Struct {
				if err := checkObject(dec, ft, name); err != nil {
					return err
				}
			} else if err := skip(dec, d); err != nil {
				return &FieldError{name, "not JSON: " + jsonMsg(err)}
			}
		case json.Number:
			if f, err := d.Float64(); err != nil || math.IsInf(f, 0) {
				return &FieldError{name, fmt.Sprintf("number %s is out of range", prefix([]byte(d), 30))}
			}
		}
	}
	_, err := dec.Token() // the closing '}'
	if err != nil {
		return &FieldError{path, "not JSON: " + jsonMsg(err)}
	}
	return nil
}

// skip consumes the rest of a composite value whose opening delimiter was
// read; encoding/json reports its type mismatch later.
func skip(dec *json.Decoder, d json.Delim) error {
	if d != '{' && d != '[' {
		return nil
	}
	for depth := 1; depth > 0; {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		if d, ok := tok.(json.Delim); ok {
			if d == '{' || d == '[' {
				depth++
			} else {
				depth--
			}
		}
	}
	return nil
}

// jsonFields maps the JSON names of t's exported fields to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	m := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		if name := jsonName(f); name != "" {
			m[name] = f.Type
		}
	}
	return m
}

func fieldNames(t reflect.Type) []string {
	var names []string
	for i := range t.NumField() {
		if name := jsonName(t.Field(i)); name != "" {
			names = append(names, name)
		}
	}
	return names
}

func jsonName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	tag := f.Tag.Get("json")
	if tag == "-" {
		return ""
	}
	name, _, _ := strings.Cut(tag, ",")
	if name == "" {
		name = f.Name
	}
	return name
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func tokenText(tok json.Token) string {
	switch t := tok.(type) {
	case nil:
		return "null"
	case json.Delim:
		return string(t)
	case string:
		return "a string"
	case bool:
		return "a boolean"
	}
	return "a number"
}

func typeWord(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "whole number that fits " + t.Kind().String()
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Bool:
		return "boolean (true or false)"
	case reflect.String:
		return "string"
	case reflect.Struct:
		return "JSON object"
	}
	return t.String()
}

// jsonMsg strips encoding/json's "json: " prefix and reports a truncated
// document as such.
func jsonMsg(err error) string {
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return "unexpected end of the document"
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// prefix returns at most n bytes of b, marked when cut.
func prefix(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	return string(b[:n]) + "…"
}

// Bound is a plausibility range of one configuration field: Lo ≤ value ≤
// Hi, in Unit. Hardware files outside it are refused rather than timed:
// values far outside what any device has overflow the models' arithmetic
// or make a run take forever.
type Bound struct {
	Field  string
	Value  float64
	Lo, Hi float64
	Unit   string
	// Text, when set, is how the value reads in an error: an integer
	// field's exact value (9223372036854775807, not 9.223372036854776e+18).
	Text string
}

// IntBound is a Bound on an integer field, quoted exactly in errors.
func IntBound(field string, v int64, lo, hi float64, unit string) Bound {
	return Bound{Field: field, Value: float64(v), Lo: lo, Hi: hi, Unit: unit, Text: strconv.FormatInt(v, 10)}
}

// CheckBounds returns a *FieldError for the first bound b whose value is
// not finite or lies outside [Lo, Hi].
func CheckBounds(bs []Bound) error {
	for _, b := range bs {
		if math.IsNaN(b.Value) || math.IsInf(b.Value, 0) || b.Value < b.Lo || b.Value > b.Hi {
			unit := ""
			if b.Unit != "" {
				unit = " " + b.Unit
			}
			v := b.Text
			if v == "" {
				v = fmt.Sprint(b.Value)
			}
			return &FieldError{b.Field, fmt.Sprintf("%s is outside the plausible range [%v, %v]%s", v, b.Lo, b.Hi, unit)}
		}
	}
	return nil
}
