package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
)

// object is a JSON object that keeps its keys in order and its values as
// they were written, so a read-merge-write changes nothing it does not mean
// to: Python's dicts keep insertion order, and so does this.
type object struct {
	keys   []string
	values map[string]json.RawMessage
}

func newObject() *object { return &object{values: map[string]json.RawMessage{}} }

// parseObject reads a JSON object; anything else (empty, corrupt, an array)
// is an error.
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
			return nil, errors.New("object key is not a string")
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
		return nil, errors.New("data after the JSON object")
	}
	return o, nil
}

func (o *object) set(key string, raw json.RawMessage) {
	if _, ok := o.values[key]; !ok {
		o.keys = append(o.keys, key)
	}
	o.values[key] = raw
}

// put sets key to v encoded as Python would.
func (o *object) put(key string, v any) error {
	raw, err := marshalPython(v)
	if err != nil {
		return fmt.Errorf("%s: %w", key, err)
	}
	o.set(key, raw)
	return nil
}

func (o *object) get(key string, v any) bool {
	raw, ok := o.values[key]
	if !ok {
		return false
	}
	return json.Unmarshal(raw, v) == nil
}

// marshal writes the object compactly, keys in order.
func (o *object) marshal() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		key, err := marshalPython(k)
		if err != nil {
			return nil, err
		}
		b.Write(key)
		b.WriteByte(':')
		if err := json.Compact(&b, o.values[k]); err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// marshalPython encodes v as Python's json.dumps(ensure_ascii=False) does
// for the values written here (strings, numbers, booleans, null, lists of
// strings): no HTML escaping, raw UTF-8.
func marshalPython(v any) (json.RawMessage, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return json.RawMessage(bytes.TrimRight(b.Bytes(), "\n")), nil
}

// objectOf is the JSON object a read of a file gave: a missing, empty or
// corrupt file is no object and no error (the caller starts afresh). Only
// a file that exists but cannot be read is an error: permissions, a
// symlink or anything but a regular file, more than MaxFileSize.
func objectOf(data []byte, err error) (*object, error) {
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // a BOM from a Windows editor
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil
	}
	o, err := parseObject(data)
	if err != nil {
		return nil, nil
	}
	return o, nil
}
