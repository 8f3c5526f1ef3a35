//go:build !unix

package files

import "os"

// rfile is a file opened for reading.
type rfile = *os.File

func openFile(name string) (rfile, error) { return os.Open(name) }
