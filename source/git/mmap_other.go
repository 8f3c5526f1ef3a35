//go:build !unix

package git

import "os"

// mapFile reads a file (no mmap on this platform).
func mapFile(name string) ([]byte, func(), error) {
	b, err := os.ReadFile(name)
	return b, func() {}, err
}
