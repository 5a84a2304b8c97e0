package host_test

import (
	"encoding/json"
	"strconv"
)

func itoa(i int) string { return strconv.Itoa(i) }

func jsonUnmarshal(raw []byte, v any) error { return json.Unmarshal(raw, v) }
