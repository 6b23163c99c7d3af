// Package prim implements the handler primitives that do not depend on how
// a handler does I/O: tasks as goroutines, time from package time, and
// queues, events, locks and semaphores built on channels. Both the goroutine
// and the event-loop handler embed Runtime, so the two cannot drift apart.
//
// Everything that blocks here blocks a goroutine, never an event loop: tasks
// are goroutines and AfterFunc callbacks run on their own goroutines.
package prim
