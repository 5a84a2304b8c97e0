// Package examplerunit proves that the lifecycle tier catches a broken
// stop: a copy of examples/runit whose Stop no longer writes the
// planned-stop marker passes every other check, and fails the tier, through
// `hermes gateway plugins check --lifecycle`. Run by `make example`, not
// `make unit`: it needs runit, and a real runsvdir for half a minute.
package examplerunit
