//go:build !unix

package files

import "os"

// rfile is a file opened for reading.
type rfile struct{ *os.File }

func openFile(name string) (rfile, error) {
	f, err := os.Open(name)
	return rfile{f}, err
}

// size returns the file's size, if stat knows it.
func (f rfile) size() (int64, bool) {
	st, err := f.Stat()
	if err != nil {
		return 0, false
	}
	return st.Size(), true
}
