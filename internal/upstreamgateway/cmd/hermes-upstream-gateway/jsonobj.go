package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"strings"
	"unicode/utf8"
)

// object is a JSON object with Python dict semantics: keys keep the order
// they were first set in, setting an existing key keeps its place, and
// values read from disk are kept as they were (so fields other writers put
// there survive a rewrite).
type object struct {
	keys   []string
	values map[string]json.RawMessage
}

func newObject() *object { return &object{values: map[string]json.RawMessage{}} }

func (o *object) clone() *object {
	c := newObject()
	for _, k := range o.keys {
		c.set(k, o.values[k])
	}
	return c
}

func (o *object) set(key string, raw json.RawMessage) {
	if _, ok := o.values[key]; !ok {
		o.keys = append(o.keys, key)
	}
	o.values[key] = raw
}

// put sets key to v, encoded as json.dumps(ensure_ascii=False) would.
func (o *object) put(key string, v any) {
	o.set(key, encode(v))
}

func (o *object) has(key string) bool { _, ok := o.values[key]; return ok }

// get decodes key into v; false when absent or of another type.
func (o *object) get(key string, v any) bool {
	raw, ok := o.values[key]
	return ok && json.Unmarshal(raw, v) == nil
}

// child is key's value as an object (nil when absent or not an object).
func (o *object) child(key string) *object {
	raw, ok := o.values[key]
	if !ok {
		return nil
	}
	c, err := parseObject(raw)
	if err != nil {
		return nil
	}
	return c
}

// MarshalJSON writes the object compactly (separators (",", ":")), keys
// in order, as upstream's atomic_json_write does.
func (o *object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(encode(k))
		b.WriteByte(':')
		if err := json.Compact(&b, o.values[k]); err != nil {
			return nil, err
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func encode(v any) json.RawMessage {
	if o, ok := v.(*object); ok {
		data, _ := o.MarshalJSON()
		return data
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return json.RawMessage("null")
	}
	return bytes.TrimRight(b.Bytes(), "\n")
}

// parseObject reads one JSON object, keeping key order and raw values.
func parseObject(data []byte) (*object, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("not a JSON object")
	}
	o := newObject()
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, ok := tok.(string)
		if !ok {
			return nil, errors.New("key is not a string")
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		o.set(key, raw)
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("data after the object")
	}
	return o, nil
}

// readObject is upstream's _read_json_file: the object at path, or nil when
// the file is missing, unreadable, empty, not UTF-8, not JSON or not an
// object. A leading BOM is allowed (utf-8-sig).
func readObject(path string) *object {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	text := strings.TrimSpace(strings.TrimPrefix(string(data), "\ufeff"))
	if text == "" || !utf8.ValidString(text) {
		return nil
	}
	o, err := parseObject([]byte(text))
	if err != nil {
		return nil
	}
	return o
}

// writeObject replaces path atomically with o, compact.
func writeObject(path string, o *object) error {
	data, err := o.MarshalJSON()
	if err != nil {
		return err
	}
	return writeAtomic(path, data)
}
