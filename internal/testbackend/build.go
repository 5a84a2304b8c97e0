package testbackend

import "github.com/nousresearch/hermes-service/internal/testbin"

// PluginPackage is the import path of the test plugin's main package.
const PluginPackage = "github.com/nousresearch/hermes-service/internal/testbackend/cmd/hermes-service-test"

// BuildPlugin puts the test plugin into dir as hermes-service-test and
// returns its path (testbin.Build: built once per test run, taken from
// there). Tests call it once, from TestMain.
func BuildPlugin(dir string) (string, error) { return testbin.Build(dir, PluginPackage) }
