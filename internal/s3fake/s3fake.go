// Package s3fake is an in-process S3 for tests and benchmarks, served over
// loopback: path-style ListObjectsV2, GetObject and HeadObject as the S3 API
// reference documents them (https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html,
// API_GetObject.html, ErrorResponses.html), with faults to test error paths: a
// key answered 403 AccessDenied, a key whose body is cut short of its
// Content-Length.
package s3fake

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Server is a fake S3 endpoint. Its methods are safe for concurrent use.
type Server struct {
	srv *httptest.Server
	// MaxKeys caps a listing page (default 1000, as S3 does).
	MaxKeys int

	mu      sync.Mutex
	buckets map[string]map[string][]byte // bucket -> key -> content
	deny    map[string]bool              // bucket/key -> 403 AccessDenied
	cut     map[string]bool              // bucket/key -> body cut short
	gets    map[string]int               // bucket/key -> GetObject requests
	region  map[string]string            // bucket -> region (default us-east-1)
	keys    map[string]int               // access key id of a signed request ("" unsigned) -> requests
	lists   int
}

// New starts a fake on 127.0.0.1 and stops it when the test ends (call Close
// otherwise).
func New() *Server {
	s := &Server{buckets: map[string]map[string][]byte{}, deny: map[string]bool{}, cut: map[string]bool{}, gets: map[string]int{}, region: map[string]string{}, keys: map[string]int{}}
	l, err := net.Listen("tcp", "127.0.0.1:0") // loopback only
	if err != nil {
		panic(fmt.Sprintf("s3fake: %v", err))
	}
	s.srv = &httptest.Server{Listener: l, Config: &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}}
	s.srv.Start()
	return s
}

// URL is the endpoint (http://127.0.0.1:PORT).
func (s *Server) URL() string { return s.srv.URL }

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// Put stores an object (creating the bucket).
func (s *Server) Put(bucket, key string, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.buckets[bucket]
	if b == nil {
		b = map[string][]byte{}
		s.buckets[bucket] = b
	}
	b[key] = append([]byte(nil), data...)
}

// Delete removes an object.
func (s *Server) Delete(bucket, key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.buckets[bucket], key)
}

// SetRegion puts a bucket in a region: a request signed for another one is
// answered 301 PermanentRedirect with the bucket's region in
// x-amz-bucket-region, as S3 answers.
func (s *Server) SetRegion(bucket, region string) {
	s.mu.Lock()
	s.region[bucket] = region
	s.mu.Unlock()
}

// Deny makes GetObject and HeadObject of the key answer 403 AccessDenied.
func (s *Server) Deny(bucket, key string) {
	s.mu.Lock()
	s.deny[bucket+"/"+key] = true
	s.mu.Unlock()
}

// Truncate makes GetObject of the key send half of its body, then close the
// connection.
func (s *Server) Truncate(bucket, key string) {
	s.mu.Lock()
	s.cut[bucket+"/"+key] = true
	s.mu.Unlock()
}

// Gets is how many GetObject requests the key received.
func (s *Server) Gets(bucket, key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gets[bucket+"/"+key]
}

// TotalGets is how many GetObject requests were received.
func (s *Server) TotalGets() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, g := range s.gets {
		n += g
	}
	return n
}

// Lists is how many ListObjectsV2 pages were served.
func (s *Server) Lists() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lists
}

// AccessKeys counts requests by the access key id that signed them ("" for
// unsigned requests).
func (s *Server) AccessKeys() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for k, n := range s.keys {
		out[k] = n
	}
	return out
}

// ETag is the entity tag of content, as S3 gives a single-part upload: its
// quoted MD5.
func ETag(data []byte) string {
	h := md5.Sum(data)
	return `"` + hex.EncodeToString(h[:]) + `"`
}

type errorResponse struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string
	Message   string
	Resource  string `xml:",omitempty"`
	RequestID string `xml:"RequestId"`
}

func writeError(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("x-amz-request-id", "FAKE")
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	b, _ := xml.Marshal(errorResponse{Code: code, Message: msg, Resource: r.URL.Path, RequestID: "FAKE"})
	w.Write([]byte(xml.Header))
	w.Write(b)
}

// ServeHTTP answers path-style requests: /BUCKET?list-type=2 and /BUCKET/KEY.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.keys[accessKey(r)]++
	s.mu.Unlock()
	p := strings.TrimPrefix(r.URL.Path, "/")
	bucket, key, hasKey := strings.Cut(p, "/")
	if bucket == "" {
		writeError(w, r, http.StatusBadRequest, "InvalidRequest", "path-style requests only")
		return
	}
	s.mu.Lock()
	objs, ok := s.buckets[bucket]
	region := s.region[bucket]
	s.mu.Unlock()
	if !ok {
		writeError(w, r, http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist")
		return
	}
	if region == "" {
		region = "us-east-1"
	}
	w.Header().Set("x-amz-bucket-region", region)
	if signed := signingRegion(r); signed != "" && signed != region {
		writeError(w, r, http.StatusMovedPermanently, "PermanentRedirect", "The bucket you are attempting to access must be addressed using the specified endpoint.")
		return
	}
	switch {
	case !hasKey && r.Method == http.MethodGet && r.URL.Query().Get("list-type") == "2":
		s.list(w, r, bucket, objs)
	case hasKey && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		s.object(w, r, bucket, key)
	case !hasKey && r.Method == http.MethodHead:
		w.WriteHeader(http.StatusOK)
	default:
		writeError(w, r, http.StatusNotImplemented, "NotImplemented", "not implemented by the fake")
	}
}

// accessKey is the access key id of a SigV4 Authorization header, "" when unsigned.
func accessKey(r *http.Request) string {
	_, cred, ok := strings.Cut(r.Header.Get("Authorization"), "Credential=")
	if !ok {
		return ""
	}
	id, _, _ := strings.Cut(cred, "/")
	return id
}

// signingRegion is the region of a SigV4 Authorization header's credential
// scope (Credential=AKID/DATE/REGION/s3/aws4_request), "" when unsigned.
func signingRegion(r *http.Request) string {
	_, cred, ok := strings.Cut(r.Header.Get("Authorization"), "Credential=")
	if !ok {
		return ""
	}
	cred, _, _ = strings.Cut(cred, ",")
	parts := strings.Split(cred, "/")
	if len(parts) != 5 {
		return ""
	}
	return parts[2]
}

type listResult struct {
	XMLName               xml.Name `xml:"ListBucketResult"`
	Xmlns                 string   `xml:"xmlns,attr"`
	Name                  string
	Prefix                string
	KeyCount              int
	MaxKeys               int
	EncodingType          string `xml:",omitempty"`
	IsTruncated           bool
	ContinuationToken     string `xml:",omitempty"`
	NextContinuationToken string `xml:",omitempty"`
	StartAfter            string `xml:",omitempty"`
	Contents              []content
}

type content struct {
	Key          string
	LastModified string
	ETag         string
	Size         int
	StorageClass string
}

// enc encodes a key for encoding-type=url as S3 does (space as +).
func enc(s string, on bool) string {
	if !on {
		return s
	}
	return url.QueryEscape(s)
}

func (s *Server) list(w http.ResponseWriter, r *http.Request, bucket string, objs map[string][]byte) {
	q := r.URL.Query()
	maxKeys := 1000
	if s.MaxKeys > 0 {
		maxKeys = s.MaxKeys
	}
	if v := q.Get("max-keys"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeError(w, r, http.StatusBadRequest, "InvalidArgument", "max-keys")
			return
		}
		maxKeys = min(maxKeys, n)
	}
	prefix := q.Get("prefix")
	encode := q.Get("encoding-type") == "url"
	after := q.Get("start-after")
	token := q.Get("continuation-token")
	if token != "" {
		t, err := hex.DecodeString(token)
		if err != nil {
			writeError(w, r, http.StatusBadRequest, "InvalidArgument", "The continuation token provided is incorrect")
			return
		}
		after = string(t)
	}
	s.mu.Lock()
	s.lists++
	var keys []string
	for k := range objs {
		if strings.HasPrefix(k, prefix) && k > after {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	res := listResult{Xmlns: "http://s3.amazonaws.com/doc/2006-03-01/", Name: bucket, Prefix: enc(prefix, encode), MaxKeys: maxKeys, ContinuationToken: token}
	if encode {
		res.EncodingType = "url"
	}
	if len(keys) > maxKeys {
		keys = keys[:maxKeys]
		res.IsTruncated = true
		res.NextContinuationToken = hex.EncodeToString([]byte(keys[len(keys)-1]))
	}
	for _, k := range keys {
		res.Contents = append(res.Contents, content{Key: enc(k, encode), LastModified: "2026-01-02T03:04:05.000Z", ETag: ETag(objs[k]), Size: len(objs[k]), StorageClass: "STANDARD"})
	}
	s.mu.Unlock()
	res.KeyCount = len(res.Contents)
	b, err := xml.Marshal(res)
	if err != nil {
		writeError(w, r, http.StatusInternalServerError, "InternalError", err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	w.Write([]byte(xml.Header))
	w.Write(b)
}

func (s *Server) object(w http.ResponseWriter, r *http.Request, bucket, key string) {
	id := bucket + "/" + key
	s.mu.Lock()
	data, ok := s.buckets[bucket][key]
	deny, cut := s.deny[id], s.cut[id]
	if r.Method == http.MethodGet {
		s.gets[id]++
	}
	s.mu.Unlock()
	if deny {
		writeError(w, r, http.StatusForbidden, "AccessDenied", "Access Denied")
		return
	}
	if !ok {
		writeError(w, r, http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
		return
	}
	h := w.Header()
	h.Set("ETag", ETag(data))
	h.Set("Last-Modified", "Fri, 02 Jan 2026 03:04:05 GMT")
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Length", strconv.Itoa(len(data)))
	h.Set("Accept-Ranges", "bytes")
	if r.Method == http.MethodHead {
		return
	}
	if cut {
		w.WriteHeader(http.StatusOK)
		w.Write(data[:len(data)/2])
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		panic(http.ErrAbortHandler) // close the connection short of Content-Length
	}
	w.Write(data)
}
