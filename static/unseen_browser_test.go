package static_test

import (
	"fmt"
	"testing"

	"github.com/kindred-health/kindred/auth"
)

// dividerBefore is true when the "New since you left" divider is shown
// once, right before the message whose text is body.
func dividerBefore(body string) string {
	return fmt.Sprintf(`(() => {
		const d = document.querySelectorAll('#message-list .new-divider');
		if (d.length !== 1 || !d[0].checkVisibility() || d[0].textContent !== 'New since you left') return false;
		let next = d[0].nextElementSibling;
		return !!next && next.matches('li.msg') && next.querySelector('.msg-body')?.textContent === %s;
	})()`, js(body))
}

const noDivider = `document.querySelectorAll('#message-list .new-divider').length === 0`

// Messages someone missed are marked "New since you left", announced
// politely: after being offline with the room open, and on opening a
// conversation where others wrote meanwhile. The marker stays put while
// more arrive, and what was seen is kept in the tab's session storage.
func TestNewSinceYouLeftDivider(t *testing.T) {
	n := startNode(t, 0, nil)
	annTok := n.user("ann", "Ann", auth.RoleSpecialist)
	bobTok := n.user("bob", "Bob", auth.RolePeer)
	room := n.createRoom(annTok, "Evening group", "")
	other := n.createRoom(annTok, "Another group", "")
	n.join(bobTok, room.ID)
	n.join(bobTok, other.ID)

	b := newBrowser(t)
	ann := b.page("ann", 1280, 800)
	bob := b.page("bob", 375, 740)
	ann.signIn(n, annTok)
	ann.openConversation(room.ID)
	bob.signIn(n, bobTok)
	bob.click("#nav-toggle")
	bob.waitJS("list open", `getComputedStyle(document.getElementById('sidebar')).visibility === 'visible' && document.getElementById('sidebar').getBoundingClientRect().left === 0`)
	bob.openConversation(room.ID)

	ann.write("Before the break")
	bob.waitSent("Before the break")
	bob.write("See you after")
	ann.waitSent("See you after")
	if !eval[bool](bob, noDivider) {
		t.Error("a divider is shown though Bob has missed nothing")
	}

	// Offline with the room open: what Ann writes meanwhile is new.
	bob.setOffline(true)
	bob.waitJS("offline", `document.getElementById('conn-status').dataset.state === 'offline'`)
	ann.write("one")
	ann.write("two")
	ann.waitSent("two")
	bob.setOffline(false)
	bob.waitJS("connected again", `document.getElementById('conn-status').dataset.state === 'connected'`)
	bob.waitSent("two")
	bob.waitJS("divider before the first missed message", dividerBefore("one"))
	bob.waitJS("divider announced", `[...document.querySelectorAll('#announcer p')].some((p) => p.textContent.startsWith('New since you left'))`)

	// It stays where it is while the conversation goes on.
	ann.write("three")
	bob.waitSent("three")
	if !eval[bool](bob, dividerBefore("one")) {
		t.Error("the divider moved (or doubled) when a live message came in")
	}
	bob.waitJS("what Bob saw is stored", fmt.Sprintf(`(() => {
		const m = JSON.parse(sessionStorage.getItem('kindred.marks') || '{}')[%s];
		return m && m.read === m.seen && m.read >= 5;
	})()`, js(room.ID)))

	// Opening a conversation where others wrote meanwhile.
	bob.click("#nav-toggle")
	bob.waitJS("list open", `getComputedStyle(document.getElementById('sidebar')).visibility === 'visible' && document.getElementById('sidebar').getBoundingClientRect().left === 0`)
	bob.openConversation(other.ID)
	if !eval[bool](bob, noDivider) {
		t.Error("a divider is shown in a conversation with nothing new")
	}
	ann.write("four")
	ann.write("five")
	ann.waitSent("five")
	bob.waitJS("unread", `document.getElementById('nav-unread').textContent === '2'`)
	bob.click("#nav-toggle")
	bob.waitJS("list open", `getComputedStyle(document.getElementById('sidebar')).visibility === 'visible' && document.getElementById('sidebar').getBoundingClientRect().left === 0`)
	bob.openConversation(room.ID)
	bob.waitSent("five")
	bob.waitJS("divider moved to the newly missed", dividerBefore("four"))
	bob.waitJS("announced with the count", `[...document.querySelectorAll('#announcer p')].some((p) => p.textContent === 'New since you left: 2 messages.')`)
}
