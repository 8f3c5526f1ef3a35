package git

import "syscall"

// release drops a read-only file mapping's pages from this process's resident
// set (they stay in the page cache; a later read faults them back in).
func release(b []byte) {
	if len(b) > 0 {
		_ = syscall.Madvise(b, syscall.MADV_DONTNEED)
	}
}
