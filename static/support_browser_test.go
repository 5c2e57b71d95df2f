package static_test

// Browser tests of the sender's side of the crisis path: the private
// support note is kept by the server, so it survives a reload and shows on
// every device of the person until they dismiss it; "Get help now" is on
// every screen with tap-to-call and tap-to-text links. Same rules as
// browser_test.go: real node, real Chromium, waits on DOM conditions only.

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat/protocol"
	"github.com/kindred-health/kindred/chat/server"
)

// supportNoteShown is a JavaScript condition: the open conversation shows
// one support note whose text contains want, with tap-to-call and
// tap-to-text links for 988.
func supportNoteShown(want string) string {
	return fmt.Sprintf(`(() => {
		const li = document.querySelectorAll('#message-list li.support');
		return li.length === 1 && li[0].querySelector('.support-text').textContent.includes(%s) &&
			li[0].querySelector('a[href="tel:988"]') !== null && li[0].querySelector('a[href="sms:988"]') !== null;
	})()`, js(want))
}

// A peer's crisis message: the support note shows on the phone it was
// written on and on the person's other device, says honestly that no
// supervisor could be reached (nobody is on call or online here), and
// comes back after a reload. Dismissed on one device, it goes from the
// other, and a reload does not bring it back.
func TestSupportNoteFollowsThePerson(t *testing.T) {
	n := startNode(t, 0, withEscalations)
	annTok := n.user("ann", "Ann", auth.RoleSpecialist)
	bobTok := n.user("bob", "Bob", auth.RolePeer)
	room := n.createRoom(annTok, "Evening group", "Peer support, weekday evenings")
	n.join(bobTok, room.ID)

	b := newBrowser(t)
	phone := b.page("bob-phone", 390, 844)
	laptop := b.page("bob-laptop", 1280, 800)
	phone.signIn(n, bobTok)
	phone.click("#nav-toggle") // the list of chats is a drawer on a phone
	phone.waitJS("list open", `getComputedStyle(document.getElementById('sidebar')).visibility === 'visible' && document.getElementById('sidebar').getBoundingClientRect().left === 0`)
	phone.click(fmt.Sprintf(`#sidebar button[data-conv=%q]`, room.ID))
	phone.waitJS("room open", fmt.Sprintf(`document.getElementById('conv-title').textContent === %s && !document.getElementById('conv').hidden`, js(room.Name)))
	laptop.signIn(n, bobTok)
	laptop.openConversation(room.ID)
	phone.write(crisisText)
	phone.waitSent(crisisText)
	const honest = "could not reach a supervisor"
	phone.waitJS("support note on the phone", supportNoteShown(honest))
	laptop.waitJS("support note on the laptop", supportNoteShown(honest))
	if eval[bool](phone, `document.querySelector('#message-list li.support').textContent.includes('has been told')`) {
		t.Error("the note says a supervisor was told, though nobody could be reached")
	}

	phone.do(chromedp.Reload())
	phone.waitJS("reconnected", `document.getElementById('conn-status').dataset.state === 'connected'`)
	phone.waitJS("support note after a reload", supportNoteShown(honest))

	laptop.click(`#message-list li.support button[data-act="dismiss"]`)
	laptop.waitJS("dismissed on the laptop", `!document.querySelector('#message-list li.support')`)
	phone.waitJS("gone from the phone", `!document.querySelector('#message-list li.support')`)

	phone.do(chromedp.Reload())
	phone.waitJS("reconnected", `document.getElementById('conn-status').dataset.state === 'connected'`)
	phone.waitSent(crisisText)
	// The note, had it come back, arrives right after the welcome: a
	// message sent now arrives after it would have.
	laptop.write("still here")
	phone.waitSent("still here")
	if eval[bool](phone, `document.querySelector('#message-list li.support') !== null`) {
		t.Error("a dismissed note came back after a reload")
	}

	// Dismissed while offline: the dismissal goes out on reconnecting,
	// and the laptop drops the note then.
	const again = "goodbye everyone, I have the pills and I'm taking them tonight"
	phone.write(again)
	phone.waitJS("second note on the phone", supportNoteShown(honest))
	laptop.waitJS("second note on the laptop", supportNoteShown(honest))
	phone.setOffline(true)
	phone.waitJS("offline", `document.getElementById('conn-status').dataset.state === 'offline'`)
	phone.click(`#message-list li.support button[data-act="dismiss"]`)
	phone.waitJS("dismissed offline", `!document.querySelector('#message-list li.support')`)
	phone.setOffline(false)
	laptop.waitJS("gone from the laptop once the phone is back", `!document.querySelector('#message-list li.support')`)
	if eval[bool](phone, `document.querySelector('#message-list li.support') !== null`) {
		t.Error("the note dismissed offline came back on the phone")
	}
}

// "Get help now" is within reach signed out and signed in, at phone
// width, by keyboard, with the operator's resources as tap-to-call and
// tap-to-text links.
func TestGetHelpNow(t *testing.T) {
	n := startNode(t, 0, func(c *server.Config) {
		w := server.DefaultCrisisSupport()
		w.Resources = append([]protocol.Resource{{Name: "Samaritans", Contact: "Call 116 123 (UK)", Call: "116123"}}, w.Resources...)
		c.CrisisSupport = w
	})
	bobTok := n.user("bob", "Bob", auth.RolePeer)
	b := newBrowser(t)
	p := b.page("bob-phone", 360, 740)

	// Signed out: the built-in lifeline and emergency number.
	p.do(chromedp.Navigate(n.url + "/"))
	p.click("#signin-help")
	p.waitJS("help dialog (signed out)", `document.getElementById('help-dialog').open &&
		document.querySelector('#help-resources a[href="tel:988"]') !== null &&
		document.querySelector('#help-resources a[href="sms:988"]') !== null &&
		document.querySelector('#help-resources a[href="tel:911"]') !== null`)
	p.do(chromedp.KeyEvent(kb.Escape))
	p.waitJS("help dialog closed", `!document.getElementById('help-dialog').open`)

	// Signed in at phone width: in the header, inside the screen, named.
	p = b.page("bob-phone-signed-in", 360, 740)
	p.signIn(n, bobTok)
	p.waitJS("help button in the header", `(() => {
		const b = document.getElementById('help-now');
		const r = b.getBoundingClientRect();
		return b.offsetParent !== null && r.left >= 0 && r.right <= window.innerWidth && r.top >= 0 &&
			document.documentElement.scrollWidth <= window.innerWidth &&
			b.closest('header') !== null && b.querySelector('.help-now-full').textContent === 'Get help now' && b.querySelector('.help-now-short').getAttribute('aria-hidden') === 'true';
	})()`)
	p.do(chromedp.Focus(chromedp.ID("help-now")))
	p.enter(0)
	p.waitJS("help dialog (signed in) with the operator's numbers, focus inside", `document.getElementById('help-dialog').open &&
		document.querySelector('#help-resources a[href="tel:116123"]') !== null &&
		document.querySelector('#help-resources a[href="tel:988"]') !== null &&
		document.getElementById('help-dialog').contains(document.activeElement)`)
	p.do(chromedp.KeyEvent(kb.Escape))
	p.waitJS("focus back on the button", `!document.getElementById('help-dialog').open && document.activeElement?.id === 'help-now'`)
}
