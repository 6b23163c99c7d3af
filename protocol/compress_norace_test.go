//go:build !race

package protocol

const codecRaceEnabled = false
