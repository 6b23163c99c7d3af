package kafka

import "sync"

// onDemand runs fn as a task when kicked, one run at a time: a kick during
// a run makes fn run once more after it, so fn sees every kick's work.
// Between runs nothing waits, so work that is idle (a request in flight, a
// response not yet arrived) costs no goroutine. kick never blocks, and may
// be called from a response future's OnDone hook on an event loop.
type onDemand struct {
	spawn func(name string, fn func()) // handler.Handler.Go, or a taskGroup's
	name  string
	fn    func()

	mu      sync.Mutex
	running bool
	again   bool
}

func newOnDemand(spawn func(name string, fn func()), name string, fn func()) *onDemand {
	return &onDemand{spawn: spawn, name: name, fn: fn}
}

// kick runs fn soon: now in a new task, or after the run in progress.
func (d *onDemand) kick() {
	d.mu.Lock()
	if d.running {
		d.again = true
		d.mu.Unlock()
		return
	}
	d.running = true
	d.mu.Unlock()
	d.spawn(d.name, d.run)
}

func (d *onDemand) run() {
	for {
		d.fn()
		d.mu.Lock()
		if !d.again {
			d.running = false
			d.mu.Unlock()
			return
		}
		d.again = false
		d.mu.Unlock()
	}
}
