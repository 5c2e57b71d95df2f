package signaling

import "time"

// Simulcast layer choice. A browser publishing simulcast sends one
// stream per RID; each subscriber receives one of them, chosen from its
// REMB estimate and switched on a key frame of the new layer (forward.go).
// Moves are one step at a time, up only with headroom, as Galène does, so
// a subscriber near a layer's rate does not flap between two.

// upHeadroom is how much more than a layer's rate the estimate must be
// before a subscriber moves up to it.
const upHeadroom = 1.25

// choose sets s's wanted layer from its estimate and the layers' measured
// rates. Without simulcast there is nothing to choose.
func (t *track) choose(s *subscriber) {
	ls := *t.layers.Load()
	if len(ls) < 2 {
		s.want.Store(0)
		return
	}
	order := byRate(live(ls, time.Now()))
	est := float64(s.estimate.Load())
	cur := s.want.Load()
	pos := len(order) - 1 // a silent wanted layer: start from the best live one
	for i, l := range order {
		if l.idx == cur {
			pos = i
		}
	}
	switch {
	case est == 0:
		pos = len(order) - 1 // no estimate yet: the best
	case pos > 0 && float64(order[pos].rate.Load()) > est:
		pos-- // over the estimate: down one
	case pos+1 < len(order) && float64(order[pos+1].rate.Load())*upHeadroom < est:
		pos++ // room for the next one up
	}
	next := order[pos].idx
	if next != cur {
		s.want.Store(next)
		order[pos].requestKeyframe() // the switch waits for one
	}
}

// chooseAll re-chooses for every subscriber, once a second as the layers'
// rates are measured.
func (t *track) chooseAll() {
	for _, s := range *t.subs.Load() {
		t.choose(s)
	}
}

// silentAfter is how long without a packet makes a layer silent: a
// browser stops sending its top layers when its uplink shrinks, and a
// subscriber left on one would freeze.
const silentAfter = 1500 * time.Millisecond

// live returns the layers that are sending (all of them when none is,
// at the start), so choose never keeps a subscriber on a silent one.
func live(ls []*layer, now time.Time) []*layer {
	out := make([]*layer, 0, len(ls))
	for _, l := range ls {
		if now.UnixNano()-l.last.Load() < int64(silentAfter) {
			out = append(out, l)
		}
	}
	if len(out) == 0 {
		return ls
	}
	return out
}

// byRate returns the layers from the lowest measured rate to the highest
// (a layer not measured yet counts as 0). At most three: a small
// insertion sort without allocation beyond the copy.
func byRate(ls []*layer) []*layer {
	out := make([]*layer, len(ls))
	copy(out, ls)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].rate.Load() < out[j-1].rate.Load(); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}
