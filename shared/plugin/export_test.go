package plugin

// SetAutoMTLS lets the benchmarks weigh what AutoMTLS would cost.
func SetAutoMTLS(on bool) (restore func()) {
	old := autoMTLS
	autoMTLS = on
	return func() { autoMTLS = old }
}
