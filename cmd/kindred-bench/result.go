package main

// shardResult is what one engine measured. Workers send theirs to the
// parent as JSON; the parent adds them up with merge.
type shardResult struct {
	Target            int64            `json:"target"`
	Opened            int64            `json:"opened"`
	Held              int64            `json:"held"`
	ConnectErrors     int64            `json:"connect_errors"`
	ConnectErrorKinds map[string]int64 `json:"connect_error_kinds,omitempty"`
	NotReady          int64            `json:"not_ready"`
	Reconnects        int64            `json:"reconnects"`
	Closes            map[string]int64 `json:"closes,omitempty"`

	Sent        int64            `json:"sent"`
	Resent      int64            `json:"resent"`
	CrisisSent  int64            `json:"crisis_sent"`
	Acked       int64            `json:"acked"`
	DupAcks     int64            `json:"duplicate_acks"`
	Unacked     int64            `json:"unacked"`
	Skipped     int64            `json:"skipped"`
	SendFailed  int64            `json:"send_failed"`
	SendErrors  map[string]int64 `json:"send_errors,omitempty"`
	OtherErrors map[string]int64 `json:"other_errors,omitempty"`

	Deliveries  int64 `json:"deliveries"`
	Measured    int64 `json:"measured"` // first deliveries of messages sent in the measured window
	Expected    int64 `json:"expected"`
	Lost        int64 `json:"lost"`
	Doubled     int64 `json:"doubled"`
	Replayed    int64 `json:"replayed"`
	Early       int64 `json:"early"`
	UnknownConv int64 `json:"unknown_conv"`

	Frames    map[string]int64 `json:"frames,omitempty"`
	Latency   histSnap         `json:"latency"`
	PerSecond []histSnap       `json:"per_second,omitempty"`

	// ToolCPU is the CPU seconds of the process that ran this shard
	// (workers only; the parent adds its own).
	ToolCPU float64 `json:"tool_cpu_seconds"`
	// ToolLoadCPU is the part of ToolCPU spent from the start of the
	// load to the end of the drain.
	ToolLoadCPU float64 `json:"tool_load_cpu_seconds"`
}

func addCounts(dst *map[string]int64, src map[string]int64) {
	if len(src) == 0 {
		return
	}
	if *dst == nil {
		*dst = make(map[string]int64, len(src))
	}
	for k, v := range src {
		(*dst)[k] += v
	}
}

// merge adds o to r.
func (r *shardResult) merge(o *shardResult) {
	r.Target += o.Target
	r.Opened += o.Opened
	r.Held += o.Held
	r.ConnectErrors += o.ConnectErrors
	addCounts(&r.ConnectErrorKinds, o.ConnectErrorKinds)
	r.NotReady += o.NotReady
	r.Reconnects += o.Reconnects
	addCounts(&r.Closes, o.Closes)
	r.Sent += o.Sent
	r.Resent += o.Resent
	r.CrisisSent += o.CrisisSent
	r.Acked += o.Acked
	r.DupAcks += o.DupAcks
	r.Unacked += o.Unacked
	r.Skipped += o.Skipped
	r.SendFailed += o.SendFailed
	addCounts(&r.SendErrors, o.SendErrors)
	addCounts(&r.OtherErrors, o.OtherErrors)
	r.Deliveries += o.Deliveries
	r.Measured += o.Measured
	r.Expected += o.Expected
	r.Lost += o.Lost
	r.Doubled += o.Doubled
	r.Replayed += o.Replayed
	r.Early += o.Early
	r.UnknownConv += o.UnknownConv
	addCounts(&r.Frames, o.Frames)
	r.Latency.merge(o.Latency)
	for i, h := range o.PerSecond {
		if i == len(r.PerSecond) {
			r.PerSecond = append(r.PerSecond, histSnap{})
		}
		r.PerSecond[i].merge(h)
	}
	r.ToolCPU += o.ToolCPU
	r.ToolLoadCPU += o.ToolLoadCPU
}

// mergeFinals takes, per conversation, the highest acked sequence any shard
// saw: with the members of a room spread over workers, each saw only its
// own senders' acks.
func mergeFinals(dst, src map[string]int64) {
	for k, v := range src {
		if v > dst[k] {
			dst[k] = v
		}
	}
}
