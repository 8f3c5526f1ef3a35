//go:build !race

package git

const raceOn = false
