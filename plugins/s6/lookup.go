//go:build !windows

package s6

import "sync"

// lookups keeps, for the life of the plugin process (one command), what
// every slot's scripts name outside the slot (the tools' paths, the #!
// line) and the service user's ids: a reconcile of a thousand profiles
// would otherwise search PATH and read /etc/passwd thousands of times. The
// key holds everything the answer depends on.
var lookups sync.Map

// remember is f's answer for key, asked once.
func remember[T any](key string, f func() T) T {
	if v, ok := lookups.Load(key); ok {
		return v.(T)
	}
	v := f()
	lookups.Store(key, v)
	return v
}
