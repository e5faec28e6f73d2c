package store

// UseWriterDriver makes Open use the named driver for the writer until the
// returned function is called.
func UseWriterDriver(name string) (restore func()) {
	old := writerDriverName
	writerDriverName = name
	return func() { writerDriverName = old }
}
