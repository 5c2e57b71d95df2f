package chat

import "context"

// Publication is one broadcast on a channel: a server frame encoded once and
// delivered, as the same bytes, to every local subscriber on every node.
// Channels are conversation IDs, or "user:<id>" for events meant for all
// the connections of one user.
type Publication struct {
	Channel string
	// Seq is the conversation sequence number the frame carries, or 0 for
	// ephemeral events (typing, presence) that have no place in history.
	Seq int64
	// Data is the encoded frame. It is shared by every recipient and must
	// never be modified after Publish.
	Data []byte
}

// BrokerHandler receives what a broker delivers to this node.
type BrokerHandler interface {
	// HandlePublication receives a publication for a channel this node
	// subscribed to. It must not block (a slow handler stalls delivery of
	// every channel) and must not call Subscribe or Unsubscribe
	// synchronously. A network broker calls it from its one receiving
	// goroutine; the in-process broker calls it on each publisher's
	// goroutine, so it must be safe for concurrent calls.
	HandlePublication(p *Publication)
	// HandleLoss is called after publications may have been lost for
	// every subscribed channel (for example once the connection to Redis
	// is re-established and every subscription restored). Receivers
	// re-check their positions against the Store, because a lost
	// publication that is the last of its conversation leaves no later
	// sequence to reveal the gap. It may be called when nothing was lost.
	HandleLoss()
}

// Broker fans publications out between nodes.
//
// Contract:
//   - Publish delivers to every node currently subscribed to the channel,
//     this one included, at most once per node.
//   - Publications on one channel published by one node arrive at each node
//     in the order they were published. Across nodes there is no ordering
//     guarantee and delivery may be lost (for example while a connection to
//     Redis is re-established); that is why sequenced publications are
//     checked against Seq by receivers and gaps are filled from the Store.
//   - Subscribe and Unsubscribe are idempotent and counted by the caller,
//     not by the broker: the hub subscribes a channel once per node.
//     Subscribe returns once the subscription is in place; when it fails,
//     the channel is not subscribed.
//   - Publish may be called before Run has started; the broker delivers
//     such publications once it runs, or fails them.
//   - PublishBatch publishes ps as Publish would, one after another in
//     slice order, so each channel's publications in ps keep their order
//     (and follow what this node published before), in as few round trips
//     as the broker can. It must not keep ps after it returns. It fails
//     as a whole: after an error any of ps may or may not have been
//     delivered, as after a failed Publish, so the caller treats every
//     one as unpublished (receivers drop a sequenced publication they
//     already have). An empty batch does nothing.
type Broker interface {
	// Run delivers incoming publications to h until ctx ends.
	Run(ctx context.Context, h BrokerHandler) error
	Publish(ctx context.Context, p *Publication) error
	PublishBatch(ctx context.Context, ps []*Publication) error
	Subscribe(ctx context.Context, channel string) error
	Unsubscribe(ctx context.Context, channel string) error
}

// Presence tracks which users have at least one live connection anywhere.
//
// Contract: Connect and Disconnect are keyed by a connection ID unique per
// connection, so one user with several tabs stays online until the last one
// closes. An implementation shared between nodes must expire the
// connections of a node that stops heartbeating within a bounded time.
type Presence interface {
	Connect(ctx context.Context, userID, connID string) error
	Disconnect(ctx context.Context, userID, connID string) error
	// Online reports, for each of userIDs, whether the user is online.
	Online(ctx context.Context, userIDs []string) (map[string]bool, error)
}

// SessionCounter counts each user's signed-in sessions on every node that
// shares it, so that a cap on sessions per user holds across the cluster
// (Config.MaxSessionsPerUser in package server).
//
// Contract:
//   - Admit counts session sessID of userID and reports true, unless the
//     user already has max (> 0) sessions counted, on any node: then it
//     counts nothing and reports false. Check and count are one atomic
//     step, so concurrent Admits on any nodes never let in more than max.
//     Admitting a session already counted reports true and counts it once.
//   - Release uncounts a session; releasing one not counted does nothing.
//     A session ID is only meaningful with its user.
//   - A shared implementation keeps this node's sessions counted while
//     Run runs (a heartbeat) and lets them lapse within a bounded time
//     once it stops (the node crashed or was cut off), without anyone
//     releasing them.
//   - When the shared count cannot be reached before ctx ends, Admit fails
//     open to this node's own count: it admits if the user has fewer than
//     max sessions on this node, and returns the error with that answer so
//     the caller can report it. Such a session is counted here and in the
//     shared count once it is reachable again; Release must still be
//     called. A Release that fails leaves the session to lapse.
type SessionCounter interface {
	Admit(ctx context.Context, userID, sessID string, max int) (bool, error)
	Release(ctx context.Context, userID, sessID string) error
	// Run keeps this node's sessions counted until ctx ends; an
	// in-process counter has nothing to refresh and returns nil at once.
	Run(ctx context.Context) error
}
