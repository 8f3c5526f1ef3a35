//go:build !linux

package git

// release is a no-op where madvise(MADV_DONTNEED) is not used.
func release([]byte) {}
