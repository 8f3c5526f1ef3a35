// Command s3serve serves every regular file under a directory as the objects of
// one bucket of the loopback fake S3 (internal/s3fake), keyed by their paths
// relative to the directory, for bench/s3.sh. It prints its endpoint URL on
// stdout and runs until its standard input closes or it is killed.
//
//	s3serve BUCKET DIR
package main

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/tokenward/tokenward/internal/s3fake"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: s3serve BUCKET DIR")
		os.Exit(2)
	}
	bucket, root := os.Args[1], os.Args[2]
	fake := s3fake.New()
	defer fake.Close()
	n, size := 0, int64(0)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		fake.Put(bucket, filepath.ToSlash(rel), data)
		n++
		size += int64(len(data))
		return nil
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "s3serve:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "s3serve: %d objects, %.1f MB in s3://%s\n", n, float64(size)/1e6, bucket)
	fmt.Println(fake.URL())
	io.Copy(io.Discard, os.Stdin) // until stdin closes
	fmt.Fprintf(os.Stderr, "s3serve: served %d GetObject, %d ListObjectsV2 pages\n", fake.TotalGets(), fake.Lists())
}
