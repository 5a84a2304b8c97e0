package main

// readCmdline cannot read another process's command line here (upstream
// asks psutil); "" makes the identity check fall back to the recorded argv,
// as upstream does when the command line is unreadable.
func readCmdline(int) string { return "" }
