//go:build race

package git

// raceOn: the race detector slows the property tests tenfold; they run fewer cases.
const raceOn = true
