package api

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// buildOpenAPI derives the OpenAPI 3.0 document from the route table:
// paths, roles (as security and x-roles), query and path parameters, and
// JSON schemas reflected from the request and response types, including
// their `validate` constraints. The output is deterministic.
func buildOpenAPI(routes []Route, version string) ([]byte, error) {
	g := &schemaGen{components: map[string]any{}}
	paths := map[string]map[string]any{}
	for _, r := range routes {
		p, params := openAPIPath(r.Path)
		op := map[string]any{
			"summary":     r.Summary,
			"operationId": operationID(r),
		}
		if r.Tag != "" {
			op["tags"] = []string{r.Tag}
		}
		for name, desc := range sortedMap(r.Query) {
			params = append(params, map[string]any{"name": name, "in": "query", "required": false,
				"description": desc, "schema": map[string]any{"type": "string"}})
		}
		if len(params) > 0 {
			op["parameters"] = params
		}
		if len(r.Roles) > 0 {
			op["security"] = []map[string][]string{{"bearer": {}}}
			op["x-roles"] = r.Roles
		}
		if r.Request != nil {
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{
				"application/json": map[string]any{"schema": g.schema(reflect.TypeOf(r.Request))}}}
		}
		okCode := "200"
		if r.Method == "POST" && !r.Stream {
			okCode = "201"
		}
		if r.OK != 0 {
			okCode = strconv.Itoa(r.OK)
		}
		ok := map[string]any{"description": "OK"}
		switch {
		case r.Response != nil:
			ok["content"] = map[string]any{"application/json": map[string]any{"schema": g.schema(reflect.TypeOf(r.Response))}}
		case r.ContentType != "":
			ok["content"] = map[string]any{r.ContentType: map[string]any{}}
		}
		responses := map[string]any{okCode: ok,
			"default": map[string]any{"description": "Error", "content": map[string]any{
				"application/json": map[string]any{"schema": g.schema(reflect.TypeOf(ErrorBody{}))}}}}
		if len(r.Roles) > 0 {
			responses["401"] = map[string]any{"description": "missing or invalid token"}
			responses["403"] = map[string]any{"description": "the token's role may not call this endpoint"}
		}
		if r.Request != nil {
			responses["400"] = map[string]any{"description": "invalid body: one {field, reason_zh, reason_en} per field"}
			responses["413"] = map[string]any{"description": "body too large"}
		}
		op["responses"] = responses
		if paths[p] == nil {
			paths[p] = map[string]any{}
		}
		paths[p][strings.ToLower(r.Method)] = op
	}
	doc := map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{"title": "Yizhu (医助) API", "version": version,
			"description": "Clinic assistant service: triage, record drafting, record QC, ECG inference, guideline search. AI output is a draft until a clinician signs."},
		"paths": paths,
		"components": map[string]any{
			"schemas":         g.components,
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
		},
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("api.buildOpenAPI: %w", err)
	}
	return b, nil
}

var pathParam = regexp.MustCompile(`:([A-Za-z_][A-Za-z0-9_]*)`)

func openAPIPath(p string) (string, []map[string]any) {
	var params []map[string]any
	for _, m := range pathParam.FindAllStringSubmatch(p, -1) {
		params = append(params, map[string]any{"name": m[1], "in": "path", "required": true,
			"schema": map[string]any{"type": "string"}})
	}
	return pathParam.ReplaceAllString(p, "{$1}"), params
}

func operationID(r Route) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(r.Method))
	for _, part := range strings.FieldsFunc(r.Path, func(c rune) bool { return c == '/' || c == '.' || c == '-' || c == '_' }) {
		part = strings.TrimPrefix(part, ":")
		if part == "" {
			continue
		}
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

func sortedMap(m map[string]string) func(func(string, string) bool) {
	return func(yield func(string, string) bool) {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if !yield(k, m[k]) {
				return
			}
		}
	}
}

type schemaGen struct {
	components map[string]any
}

var (
	timeType = reflect.TypeFor[time.Time]()
	rawType  = reflect.TypeFor[json.RawMessage]()
	durType  = reflect.TypeFor[time.Duration]()
)

// schema returns the schema of t: a $ref for named structs (added to the
// components once), inline otherwise.
func (g *schemaGen) schema(t reflect.Type) map[string]any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case t == rawType:
		return map[string]any{}
	case t == durType:
		return map[string]any{"type": "integer", "description": "nanoseconds"}
	}
	switch t.Kind() {
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Uint8:
		return map[string]any{"type": "integer", "minimum": 0, "maximum": 255}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return map[string]any{"type": "string", "format": "byte"}
		}
		return map[string]any{"type": "array", "items": g.schema(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": g.schema(t.Elem())}
	case reflect.Interface:
		return map[string]any{}
	case reflect.Struct:
		name := schemaName(t)
		if name == "" {
			return g.structSchema(t)
		}
		if _, ok := g.components[name]; !ok {
			g.components[name] = map[string]any{} // break cycles
			g.components[name] = g.structSchema(t)
		}
		return map[string]any{"$ref": "#/components/schemas/" + name}
	}
	return map[string]any{}
}

func schemaName(t reflect.Type) string {
	if t.Name() == "" {
		return ""
	}
	pkg := t.PkgPath()
	if i := strings.LastIndex(pkg, "/"); i >= 0 {
		pkg = pkg[i+1:]
	}
	return pkg + "." + t.Name()
}

func (g *schemaGen) structSchema(t reflect.Type) map[string]any {
	props := map[string]any{}
	var required []string
	g.fields(t, props, &required)
	s := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		slices.Sort(required)
		s["required"] = required
	}
	return s
}

func (g *schemaGen) fields(t reflect.Type, props map[string]any, required *[]string) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if f.Anonymous && name == "" {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				g.fields(ft, props, required)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		s := g.schema(f.Type)
		rules := f.Tag.Get("validate")
		if _, isRef := s["$ref"]; !isRef && rules != "" {
			s = applyRules(s, f.Type, rules)
		}
		props[name] = s
		if strings.Contains(","+rules+",", ",required,") ||
			(!strings.Contains(opts, "omitempty") && !strings.Contains(opts, "omitzero") && f.Type.Kind() != reflect.Pointer && rules != "" && !strings.Contains(rules, "omitempty")) {
			if strings.Contains(","+rules+",", ",required,") {
				*required = append(*required, name)
			}
		}
	}
}

// applyRules copies validator constraints (before any dive) into the schema.
func applyRules(s map[string]any, t reflect.Type, rules string) map[string]any {
	out := map[string]any{}
	for k, v := range s {
		out[k] = v
	}
	for _, r := range strings.Split(rules, ",") {
		if r == "dive" {
			break
		}
		k, v, _ := strings.Cut(r, "=")
		n, numErr := strconv.ParseFloat(v, 64)
		switch k {
		case "oneof":
			out["enum"] = strings.Fields(v)
		case "min", "gte", "max", "lte", "len":
			if numErr != nil {
				continue
			}
			lower := k == "min" || k == "gte"
			exact := k == "len"
			switch t.Kind() {
			case reflect.String:
				if lower || exact {
					out["minLength"] = n
				}
				if !lower || exact {
					out["maxLength"] = n
				}
			case reflect.Slice, reflect.Array:
				if lower || exact {
					out["minItems"] = n
				}
				if !lower || exact {
					out["maxItems"] = n
				}
			case reflect.Map:
				if lower || exact {
					out["minProperties"] = n
				}
				if !lower || exact {
					out["maxProperties"] = n
				}
			default:
				if lower {
					out["minimum"] = n
				} else {
					out["maximum"] = n
				}
			}
		}
	}
	return out
}
