//go:build !linux && !windows

package s6

// exchange swaps two folders by two renames: there is no atomic exchange
// here (the backend is meant for Linux containers).
func exchange(a, b string) error { return swapByRenames(a, b) }
