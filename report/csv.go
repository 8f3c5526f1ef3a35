package report

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"io"
	"reflect"
	"strconv"
	"strings"

	"github.com/tokenward/tokenward/finding"
)

// csvColumn is one column of the csv format: a field of the Finding schema, or
// of its verification (flattened as verification_NAME).
type csvColumn struct {
	name      string
	index     []int // reflect field path from finding.Finding
	omitEmpty bool  // the schema omits the field when zero: an empty cell
}

// csvColumns derives the columns from finding.Finding's JSON names, in schema
// order, so the csv format follows the schema as it grows.
var csvColumns = func() []csvColumn {
	var cols []csvColumn
	t := reflect.TypeFor[finding.Finding]()
	for i := range t.NumField() {
		sf := t.Field(i)
		name, ok := jsonName(sf)
		if !ok {
			continue
		}
		ft := sf.Type
		if ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.Struct {
			for j := range ft.Elem().NumField() {
				sub := ft.Elem().Field(j)
				if subName, ok := jsonName(sub); ok {
					cols = append(cols, csvColumn{name: name + "_" + subName, index: []int{i, j}, omitEmpty: true})
				}
			}
			continue
		}
		cols = append(cols, csvColumn{name: name, index: []int{i}, omitEmpty: strings.Contains(sf.Tag.Get("json"), ",omitempty")})
	}
	return cols
}()

// jsonName is a struct field's JSON name; false for unexported or "-" fields.
func jsonName(sf reflect.StructField) (string, bool) {
	if !sf.IsExported() {
		return "", false
	}
	tag := sf.Tag.Get("json")
	if tag == "-" {
		return "", false
	}
	name, _, _ := strings.Cut(tag, ",")
	if name == "" {
		name = sf.Name
	}
	return name, true
}

// writeCSV writes a header row of the Finding schema's field names and one row
// per finding (RFC 4180 quoting). Lists are joined with ";", nested objects are
// compact JSON. Text cells that a spreadsheet would evaluate (starting with
// = + - @, tab or carriage return) get a leading apostrophe.
func writeCSV(w io.Writer, fs []finding.Finding) error {
	bw := bufio.NewWriter(w)
	cw := csv.NewWriter(bw)
	header := make([]string, len(csvColumns))
	for i, c := range csvColumns {
		header[i] = c.name
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	row := make([]string, len(csvColumns))
	for i := range fs {
		v := reflect.ValueOf(&fs[i]).Elem()
		for j, c := range csvColumns {
			row[j] = csvCell(v, c.index, c.omitEmpty)
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return bw.Flush()
}

// csvCell formats the field at index path of v; a nil pointer on the path is empty.
func csvCell(v reflect.Value, index []int, omitEmpty bool) string {
	for n, i := range index {
		if n > 0 {
			if v.IsNil() {
				return ""
			}
			v = v.Elem()
		}
		v = v.Field(i)
	}
	if omitEmpty && v.IsZero() {
		return ""
	}
	switch v.Kind() {
	case reflect.String:
		return guardFormula(v.String())
	case reflect.Int, reflect.Int64, reflect.Int32:
		return strconv.FormatInt(v.Int(), 10)
	case reflect.Float64, reflect.Float32:
		return strconv.FormatFloat(v.Float(), 'f', -1, 64)
	case reflect.Bool:
		return strconv.FormatBool(v.Bool())
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.String {
			parts := make([]string, v.Len())
			for i := range v.Len() {
				parts[i] = v.Index(i).String()
			}
			return guardFormula(strings.Join(parts, ";"))
		}
	}
	if (v.Kind() == reflect.Pointer || v.Kind() == reflect.Map || v.Kind() == reflect.Slice) && v.IsNil() {
		return ""
	}
	b, err := json.Marshal(v.Interface())
	if err != nil {
		return ""
	}
	return guardFormula(string(b))
}

// guardFormula defuses CSV/formula injection: spreadsheets evaluate a cell that
// starts with = + - @ (or tab/CR, which some strip first), so such cells are
// prefixed with an apostrophe and shown as text.
func guardFormula(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}
