package git

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/tokenward/tokenward/finding"
	"github.com/tokenward/tokenward/source"
)

var errNotBlob = errors.New("object is not a blob")

// isBinary reports whether content whose first bytes are head is binary as git
// decides (a NUL byte near the start). The pipeline's scanner decides how such
// content is read; here it only rules out scanning around delta changes.
func isBinary(head []byte) bool { return bytes.IndexByte(head[:min(len(head), 8000)], 0) >= 0 }

// scanBlob reads blob h and submits it to the engine under path's class, once per
// (blob, class). It returns the key it was (or had been) scanned under.
func (s *session) scanBlob(h plumbing.Hash, path string) resultKey {
	key := resultKey{hash: h, class: s.class(path)}
	if s.scanned[key] {
		return key
	}
	s.scanned[key] = true
	if s.fromCache(key) {
		return key
	}
	if j, ok := s.main.blobJob(key, h, path); ok {
		s.pool.submit(j)
	}
	return key
}

// blobJob prepares the engine job for blob h (reading it unless it is large).
func (pr *producer) blobJob(key resultKey, h plumbing.Hash, path string) (job, bool) {
	if l, ok := pr.store.locate(h); ok {
		return pr.packedBlobJob(key, h, path, l)
	}
	s := pr.s
	s.rp.gitMu.Lock()
	defer s.rp.gitMu.Unlock()
	name := fmt.Sprintf("blob %s (%s)", h, path)
	obj, err := s.rp.st.EncodedObject(plumbing.BlobObject, h)
	if err != nil {
		s.problem(objectProblem("blob "+path, h, err))
		return job{}, false
	}
	size := obj.Size()
	if s.opts.MaxBlobSize > 0 && size > s.opts.MaxBlobSize {
		pr.tooLarge(path, size)
		return job{}, false
	}
	j := job{key: key, name: name, blob: source.Blob{ID: h.String(), Path: path}}
	if size > streamAbove {
		r, err := obj.Reader()
		if err != nil {
			s.problem(objectProblem("blob "+path, h, err))
			return job{}, false
		}
		r.Close()
		pr.st.Streamed++
		j.blob.Open = obj.Reader
	} else {
		r, err := obj.Reader()
		if err != nil {
			s.problem(objectProblem("blob "+path, h, err))
			return job{}, false
		}
		data, err := readAllInto(r, make([]byte, 0, size))
		r.Close()
		if err == nil && int64(len(data)) != size {
			err = fmt.Errorf("content is %d bytes, header says %d", len(data), size)
		}
		if err != nil {
			s.problem(objectProblem("blob "+path, h, err))
			return job{}, false
		}
		j.blob.Data = data
	}
	pr.st.BlobsScanned++
	pr.st.Bytes += size
	return j, true
}

// findingsAt returns the engine's findings for blob h as seen at path, scanning it
// now (synchronously) if it was not yet scanned under path's class. Only call it
// after the pool has been drained.
//
// The findings are composed (source.Composer) once per key: a composite's
// parts come from this blob version, and its fingerprint is the one commits
// are attributed by.
func (s *session) findingsAt(h plumbing.Hash, path string) []finding.Finding {
	key := resultKey{hash: h, class: s.class(path)}
	return s.composeAt(key, s.rawFindingsAt(key, h, path))
}

// composite reports whether any of fs takes part in a composite credential.
func (s *session) composite(fs []finding.Finding) bool {
	c, ok := s.pool.sc.(source.Composer)
	if !ok {
		return false
	}
	for _, f := range fs {
		if c.Composite(f.RuleID) {
			return true
		}
	}
	return false
}

// composeAt composes key's complete findings fs, once.
func (s *session) composeAt(key resultKey, fs []finding.Finding) []finding.Finding {
	c, ok := s.pool.sc.(source.Composer)
	if !ok || len(fs) == 0 {
		return fs
	}
	s.composedMu.Lock()
	defer s.composedMu.Unlock()
	if out, ok := s.composed[key]; ok {
		return out
	}
	if s.composed == nil {
		s.composed = map[resultKey][]finding.Finding{}
	}
	out := c.ComposeBlob(fs)
	s.composed[key] = out
	return out
}

func (s *session) rawFindingsAt(key resultKey, h plumbing.Hash, path string) []finding.Finding {
	if fs, ok := s.pool.get(key); ok || s.scanned[key] {
		return fs
	}
	s.scanned[key] = true
	if s.fromCache(key) {
		fs, _ := s.pool.get(key)
		return fs
	}
	if j, ok := s.main.blobJob(key, h, path); ok {
		fs := s.pool.scanNow(j)
		s.offerResults()
		return fs
	}
	s.offerResults() // a binary blob
	return nil
}

// tooLarge counts and names a blob skipped as larger than MaxBlobSize.
func (pr *producer) tooLarge(path string, size int64) {
	pr.st.TooLarge++
	p := pr.s.pool
	p.mu.Lock()
	p.skipped = append(p.skipped, source.Skip{Path: path, Reason: fmt.Sprintf("%d bytes, over --max-file-size", size)})
	p.mu.Unlock()
}
