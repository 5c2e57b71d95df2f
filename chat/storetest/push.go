package storetest

import (
	"fmt"
	"sync"

	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/webpush"
)

// pushStore is the store as a webpush.Store, which every store implements
// beside chat.Store (migration 0017).
func (f *fixture) pushStore() webpush.Store {
	ps, ok := f.s.(webpush.Store)
	if !ok {
		f.Fatalf("%T does not implement webpush.Store", f.s)
	}
	return ps
}

func (f *fixture) pushSub(user, name string) webpush.Subscription {
	return webpush.Subscription{User: user, Endpoint: "https://push.example.org/" + f.id(name),
		P256DH: "p256dh-" + name, Auth: "auth-" + name}
}

// endpoints lists user's subscriptions' endpoints, oldest first, checking
// each carries its user and a time.
func (f *fixture) endpoints(ps webpush.Store, user string) []string {
	f.Helper()
	subs, err := ps.PushSubscriptions(f.ctx, user)
	if err != nil {
		f.Fatal(err)
	}
	out := []string{}
	for _, s := range subs {
		if s.User != user || s.Created.IsZero() {
			f.Errorf("subscription %+v: want user %s and a time", s, user)
		}
		out = append(out, s.Endpoint)
	}
	return out
}

// testPushSubscriptions: subscriptions are kept per user, oldest first; an
// endpoint belongs to one user (subscribing it again replaces its keys, or
// moves it to whoever subscribed it last); past the cap the oldest go; a
// user removes only their own.
func testPushSubscriptions(f *fixture) {
	ps := f.pushStore()
	alice, bob := f.user("alice"), f.user("bob")
	a1, a2 := f.pushSub(alice, "a1"), f.pushSub(alice, "a2")
	for _, s := range []webpush.Subscription{a1, a2} {
		if err := ps.PutPushSubscription(f.ctx, s, 3); err != nil {
			f.Fatal(err)
		}
	}
	if got := f.endpoints(ps, alice); fmt.Sprint(got) != fmt.Sprint([]string{a1.Endpoint, a2.Endpoint}) {
		f.Fatalf("alice's subscriptions %v, want a1 then a2", got)
	}
	a2.P256DH, a2.Auth = "p256dh-new", "auth-new"
	if err := ps.PutPushSubscription(f.ctx, a2, 3); err != nil {
		f.Fatal(err)
	}
	subs, _ := ps.PushSubscriptions(f.ctx, alice)
	if len(subs) != 2 || subs[1].P256DH != "p256dh-new" || subs[1].Auth != "auth-new" {
		f.Errorf("after a second subscription of a2: %+v", subs)
	}
	moved := a2
	moved.User = bob
	if err := ps.PutPushSubscription(f.ctx, moved, 3); err != nil {
		f.Fatal(err)
	}
	if a, b := f.endpoints(ps, alice), f.endpoints(ps, bob); len(a) != 1 || len(b) != 1 || b[0] != a2.Endpoint {
		f.Errorf("after bob subscribed a2's browser: alice %v, bob %v", a, b)
	}
	a3, a4 := f.pushSub(alice, "a3"), f.pushSub(alice, "a4")
	for _, s := range []webpush.Subscription{a3, a4} {
		if err := ps.PutPushSubscription(f.ctx, s, 2); err != nil {
			f.Fatal(err)
		}
	}
	if got := f.endpoints(ps, alice); fmt.Sprint(got) != fmt.Sprint([]string{a3.Endpoint, a4.Endpoint}) {
		f.Errorf("past the cap of 2: %v, want a3 and a4 (a1, the oldest, gone)", got)
	}
	if ok, err := ps.DeletePushSubscription(f.ctx, bob, a3.Endpoint); ok || err != nil {
		f.Errorf("bob removed alice's subscription: %v, %v", ok, err)
	}
	if ok, err := ps.DeletePushSubscription(f.ctx, alice, a3.Endpoint); !ok || err != nil {
		f.Errorf("Delete(alice, a3) = %v, %v", ok, err)
	}
	if ok, _ := ps.DeletePushSubscription(f.ctx, alice, a3.Endpoint); ok {
		f.Error("a3 removed twice")
	}
	if got := f.endpoints(ps, alice); len(got) != 1 || got[0] != a4.Endpoint {
		f.Errorf("alice's subscriptions %v, want a4", got)
	}
	if err := ps.PutPushSubscription(f.ctx, f.pushSub(f.id("nobody"), "x"), 2); chat.ErrorCode(err) != chat.CodeNotFound {
		f.Errorf("a subscription of an unknown user: %v, want not_found", err)
	}
	if got := f.endpoints(ps, f.id("nobody")); len(got) != 0 {
		f.Errorf("an unknown user has subscriptions %v", got)
	}
}

// testInitSetting: the first value stored under a name stays; of several
// nodes initialising it at once, all read the same.
func testInitSetting(f *fixture) {
	ps := f.pushStore()
	name := f.id("setting")
	for _, v := range []string{"first", "second"} {
		if got, err := ps.InitSetting(f.ctx, name, v); got != "first" || err != nil {
			f.Errorf("InitSetting(%q) = %q, %v; want \"first\"", v, got, err)
		}
	}
	racy := f.id("racy")
	got := make([]string, 8)
	var wg sync.WaitGroup
	for i := range got {
		wg.Go(func() {
			v, err := ps.InitSetting(f.ctx, racy, fmt.Sprint("node", i))
			if err != nil {
				f.Error(err)
			}
			got[i] = v
		})
	}
	wg.Wait()
	for _, v := range got {
		if v != got[0] || v == "" {
			f.Fatalf("racing nodes read %v", got)
		}
	}
}
