// Package testgateway builds a stand-in for the Hermes gateway, for tests
// only (never shipped).
package testgateway

import "github.com/nousresearch/hermes-service/internal/testbin"

// Package is the import path of the test gateway's main package.
const Package = "github.com/nousresearch/hermes-service/internal/testgateway/cmd/hermes-test-gateway"

// Build puts the test gateway into dir and returns its path (testbin.Build:
// built once per test run, taken from there).
func Build(dir string) (string, error) { return testbin.Build(dir, Package) }
