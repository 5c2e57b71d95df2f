package static_test

// The moderation UI as members and facilitators use it: the guidelines a
// newcomer accepts before posting, invite links into a private room, and a
// facilitator's mute and hide as the member sees them.

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/kindred-health/kindred/auth"
)

const groupGuidelines = "What is said here stays here.\nBe kind; speak from your own experience."

// noSideScroll fails the test if the page scrolls sideways.
func (p *page) noSideScroll(width int, where string) {
	p.t.Helper()
	if w := eval[int](p, `document.documentElement.scrollWidth`); w > width {
		p.t.Errorf("%s: page is %dpx wide at a %dpx viewport (%s)", p.name, w, width, where)
	}
}

// openNav opens the list of chats on a phone, once it has slid in.
func (p *page) openNav() {
	p.t.Helper()
	p.click("#nav-toggle")
	p.waitJS("list open", `getComputedStyle(document.getElementById('sidebar')).visibility === 'visible' && document.getElementById('sidebar').getBoundingClientRect().left === 0`)
}

const composerOff = `document.getElementById('composer-input').disabled && document.getElementById('send').disabled`
const composerOn = `!document.getElementById('composer-input').disabled && !document.getElementById('send').disabled`

// A new member must accept the room's guidelines before posting: they pop
// up on joining, the message box stays disabled until they are accepted
// (also after "Not now"), and then the message goes through.
func TestNewMemberAcceptsGuidelinesBeforePosting(t *testing.T) {
	n := startNode(t, 0, nil)
	annTok := n.user("ann", "Ann", auth.RoleSpecialist)
	bobTok := n.user("bob", "Bob", auth.RolePeer)
	room := n.createRoom(annTok, "Wednesday circle", "")
	n.api("PATCH", "/api/rooms/"+room.ID, annTok, map[string]any{"guidelines": groupGuidelines}, nil)

	b := newBrowser(t)
	ann := b.page("ann", 1280, 800)
	ann.signIn(n, annTok)
	ann.openConversation(room.ID)
	bob := b.page("bob", 360, 740)
	bob.signIn(n, bobTok)
	bob.openNav()
	bob.click("#browse-rooms")
	bob.click(fmt.Sprintf(`#rooms-dialog button[data-room=%q]`, room.ID))

	bob.waitJS("guidelines shown on joining", fmt.Sprintf(`document.getElementById('guidelines-dialog').open && document.getElementById('guidelines-text').textContent === %s && document.activeElement?.id === 'guidelines-text'`, js(groupGuidelines)))
	if !eval[bool](bob, composerOff) {
		t.Error("the message box is usable before the guidelines are accepted")
	}
	bob.noSideScroll(360, "guidelines")
	bob.screenshot("guidelines-phone.png")

	// Escape puts them off; the box stays disabled and says why.
	bob.do(chromedp.KeyEvent(kb.Escape))
	bob.waitJS("dialog closed, box still off", `!document.getElementById('guidelines-dialog').open && `+composerOff+` &&
		document.getElementById('room-state').textContent.includes('Please read and accept this group’s guidelines before you post.')`)
	if eval[bool](bob, `(() => { const r = document.getElementById('composer-input').getAttribute('aria-describedby'); return !r.split(' ').includes('room-state'); })()`) {
		t.Error("the message box is not described by the room's state")
	}

	bob.click(`#room-state button[data-state-act="guidelines"]`)
	bob.waitJS("guidelines again", `document.getElementById('guidelines-dialog').open`)
	bob.click("#guidelines-ok")
	bob.waitJS("accepted: box on and focused", `!document.getElementById('guidelines-dialog').open && `+composerOn+` && document.activeElement?.id === 'composer-input' &&
		document.getElementById('room-state').hidden`)
	bob.write("Thanks for having me. I agree.")
	bob.waitSent("Thanks for having me. I agree.")
	ann.waitSent("Thanks for having me. I agree.")
	bob.noSideScroll(360, "after posting")

	// The owner is never asked, and reads them from the group's menu.
	if eval[bool](ann, composerOff) {
		t.Error("the owner's message box is disabled by the guidelines")
	}
	ann.pick("#room-menu", "Guidelines")
	ann.waitJS("owner reads them", `document.getElementById('guidelines-dialog').open && document.getElementById('guidelines-ok').hidden`)
}

// An invite link brings someone into a private group: the owner makes one
// in the invite dialog, a newcomer opens it signed out, signs in, and
// lands in the group with its guidelines; the link counts the use.
func TestInviteLinkBringsSomeoneIntoAPrivateRoom(t *testing.T) {
	n := startNode(t, 0, nil)
	annTok := n.user("ann", "Ann", auth.RoleSpecialist)
	carlTok := n.user("carl", "Carl", auth.RolePeer)
	room := n.createRoom(annTok, "Carers' evening", "")
	n.api("PATCH", "/api/rooms/"+room.ID, annTok, map[string]any{"visibility": "private", "guidelines": groupGuidelines}, nil)

	b := newBrowser(t)
	ann := b.page("ann", 1280, 800)
	ann.signIn(n, annTok)
	ann.openConversation(room.ID)
	ann.pick("#room-menu", "Invite links")
	ann.waitJS("invite dialog", `document.getElementById('invites-dialog').open && document.getElementById('invites-status').textContent === 'No links yet.'`)
	ann.do(chromedp.SetValue(chromedp.ID("invite-uses"), "5"))
	ann.click(`#invite-form button[type="submit"]`)
	ann.waitJS("new link", `!document.getElementById('invite-new').hidden && document.getElementById('invite-link').value.includes('/#invite=') && document.querySelectorAll('#invites-list li').length === 1`)
	link := eval[string](ann, `document.getElementById('invite-link').value`)
	if !strings.HasPrefix(link, n.url+"/#invite=") {
		t.Fatalf("link %q is not on this server", link)
	}

	// Carl cannot find the private group.
	carl := b.page("carl", 360, 740)
	carl.signIn(n, carlTok)
	carl.openNav()
	carl.click("#browse-rooms")
	carl.waitJS("directory loaded", `document.getElementById('rooms-dialog-status').textContent !== 'Loading groups…'`)
	if eval[bool](carl, fmt.Sprintf(`!!document.querySelector('#rooms-dialog button[data-room=%q]')`, room.ID)) {
		t.Fatal("a private group is listed to a non-member")
	}

	// Signed out, he opens the link, signs in, and is in.
	carl.click("#rooms-dialog [data-close]")
	carl.do(chromedp.Evaluate[chromedp.Void](`sessionStorage.clear()`))
	carl.do(chromedp.Navigate("about:blank"), chromedp.Navigate(link))
	carl.waitJS("sign-in asked", `!document.getElementById('signin').hidden`)
	if eval[bool](carl, `location.hash.includes('invite')`) {
		t.Error("the invite code was left in the address bar")
	}
	carl.do(chromedp.SendKeys(chromedp.ID("signin-token"), carlTok))
	carl.click(`#signin-form button[type="submit"]`)
	carl.waitJS("in the group, with its guidelines", fmt.Sprintf(`document.getElementById('conv-title').textContent === %s && document.getElementById('guidelines-dialog').open`, js(room.Name)))
	carl.click("#guidelines-ok")
	carl.waitJS("box on", composerOn)
	carl.write("Hello, glad to be here.")
	ann.waitSent("Hello, glad to be here.")
	carl.noSideScroll(360, "after joining by invite")

	ann.click("#invites-dialog [data-close]")
	ann.pick("#room-menu", "Invite links")
	ann.waitJS("use counted", `[...document.querySelectorAll('#invites-list li')].some(li => li.textContent.includes('Used 1 of 5 times'))`)
	ann.click(`#invites-list button[data-revoke]`)
	ann.waitJS("revoked", `document.getElementById('invites-status').textContent.startsWith('Link revoked') && document.querySelector('#invites-list li').textContent.includes('Revoked')`)
}

// mutedUntilShown is true when the muted line names the end of a mute of
// about minutes from now, in the page's local time format.
func mutedUntilShown(minutes int) string {
	return fmt.Sprintf(`(() => {
		const t = document.getElementById('room-state').textContent;
		return %s.some(end => t.includes('You are muted in this group until ' + end + '.'));
	})()`, muteEnds(minutes))
}

// A facilitator mutes a member and hides a message, and the member's view
// shows both: the message box says until when, in local time, and is
// disabled until the mute is lifted, and the hidden message reads
// "Removed by a moderator", also after a reload. On the way: a member
// reports the message and the facilitator works through the report queue;
// a pinned welcome shows under the header; a supervisor finds the mute,
// with its reason, in the audit log.
func TestFacilitatorMutesAndHidesAndTheMemberSeesBoth(t *testing.T) {
	n := startNode(t, 0, nil)
	annTok := n.user("ann", "Ann", auth.RoleSpecialist)
	bobTok := n.user("bob", "Bob", auth.RolePeer)
	catTok := n.user("cat", "Cat", auth.RolePeer)
	sueTok := n.user("sue", "Sue", auth.RoleSupervisor)
	room := n.createRoom(annTok, "Friday group", "")
	n.join(bobTok, room.ID)
	n.join(catTok, room.ID)

	b := newBrowser(t)
	ann := b.page("ann", 1280, 800)
	ann.signIn(n, annTok)
	ann.openConversation(room.ID)
	bob := b.page("bob", 360, 740)
	bob.signIn(n, bobTok)
	bob.openNav()
	bob.click(fmt.Sprintf(`#sidebar button[data-conv=%q]`, room.ID))

	// A pinned welcome shows to everyone under the header.
	const welcome = "Welcome, all. Please keep to the guidelines tonight."
	ann.write(welcome)
	ann.waitSent(welcome)
	ann.pick(ann.msgMenu(welcome), "Pin")
	bob.waitJS("pinned strip", `!document.getElementById('pins').hidden && document.getElementById('pins-toggle').textContent === '1 pinned message'`)
	bob.click("#pins-toggle")
	bob.waitJS("pins unfolded", fmt.Sprintf(`document.getElementById('pins-toggle').getAttribute('aria-expanded') === 'true' && document.getElementById('pins-list').textContent.includes(%s)`, js(welcome)))
	bob.click("#pins-toggle")
	const hostile = "You're all pathetic. Nobody here gets it."
	bob.write(hostile)
	ann.waitSent(hostile)

	// Cat reports it; Ann finds it in the room's report queue at once.
	cat := b.page("cat", 1280, 800)
	cat.signIn(n, catTok)
	cat.openConversation(room.ID)
	cat.pick(cat.msgMenu(hostile), "Report to the moderators")
	cat.waitJS("report dialog", `document.getElementById('complaint-dialog').open && document.activeElement?.name === 'complaint-category'`)
	cat.click("#complaint-ok")
	cat.waitJS("category asked for", `document.getElementById('complaint-error').textContent !== '' && document.getElementById('complaint-dialog').open`)
	cat.do(chromedp.Click(`label[for="cat-harassment"]`), chromedp.SendKeys(chromedp.ID("complaint-reason"), "Third time tonight"))
	cat.click("#complaint-ok")
	cat.waitJS("reported", `!document.getElementById('complaint-dialog').open && document.getElementById('flash').textContent === 'Thank you. The moderators have your report.'`)
	ann.waitJS("report news", `[...document.querySelectorAll('#announcer p')].some(p => p.textContent === 'New report in Friday group.')`)
	ann.pick("#room-menu", "Reports (1 open)")
	ann.waitJS("the report in the queue", `document.getElementById('reports-dialog').open && (() => {
		const li = document.querySelector('#reports-list li');
		return li && li.querySelector('.report-cat').textContent === 'Harassment' && li.textContent.includes('A message by Bob') &&
			li.querySelector('.report-quote')?.textContent.startsWith('“You') && li.querySelector('.queue-reason').textContent === 'Cat: “Third time tonight”';
	})()`)
	ann.click("#reports-dialog [data-close]")

	// Ann hides the message; everyone sees it removed.
	if got := strings.Join(ann.menuItems(ann.msgMenu(hostile)), "|"); got != "Flag for the crisis team|Pin|Hide from the group" {
		t.Errorf("the owner's menu on a member's message offers %q", got)
	}
	ann.pick(ann.msgMenu(hostile), "Hide from the group")
	ann.waitJS("hide dialog", `document.getElementById('action-dialog').open && document.activeElement?.id === 'action-reason'`)
	ann.do(chromedp.SendKeys(chromedp.ID("action-reason"), "Insulting the group"))
	ann.click("#action-ok")
	removed := `[...document.querySelectorAll('#message-list li.msg.hidden-msg')].some(li => li.querySelector('.msg-body').textContent === 'Removed by a moderator') && !document.getElementById('message-list').textContent.includes('pathetic')`
	ann.waitJS("hidden", `!document.getElementById('action-dialog').open && `+removed)
	bob.waitJS("removed by a moderator", removed)
	cat.waitJS("removed by a moderator", removed)

	ann.click("#members-open")
	ann.waitJS("member list", `document.querySelectorAll('#members-list li').length === 3`)
	if got := strings.Join(ann.menuItems(memberMenu("bob")), "|"); got != "Raise a concern|Block|Make a moderator|Mute…|Remove from the group…|Ban…" {
		t.Errorf("the owner's menu for a member offers %q", got)
	}
	// The menu works from the keyboard, and Escape closes the menu, not
	// the dialog around it; a click elsewhere closes it too.
	ann.do(chromedp.Focus(memberMenu("bob")), chromedp.KeyEvent(kb.ArrowDown))
	ann.waitJS("menu open on its first item", `document.activeElement?.getAttribute('role') === 'menuitem' && document.activeElement.textContent === 'Raise a concern'`)
	ann.do(chromedp.KeyEvent(kb.ArrowUp))
	ann.waitJS("wrapped to the last item", `document.activeElement?.textContent === 'Ban…' && document.activeElement.classList.contains('danger-item')`)
	ann.do(chromedp.KeyEvent(kb.Escape))
	ann.waitJS("menu closed, dialog open", `!document.querySelector('[role="menu"]') && document.getElementById('members-dialog').open && document.activeElement?.dataset.memberMenu === 'bob' && document.activeElement.getAttribute('aria-expanded') === 'false'`)
	ann.openMenu(memberMenu("bob"))
	ann.do(chromedp.Click("#members-dialog-title"))
	ann.waitJS("closed by a click elsewhere", `!document.querySelector('[role="menu"]') && document.getElementById('members-dialog').open`)
	ann.pick(memberMenu("bob"), "Mute…")
	ann.waitJS("mute dialog", `document.getElementById('action-dialog').open && document.getElementById('action-title').textContent === 'Mute Bob?' && document.activeElement?.name === 'action-choice'`)
	ann.do(chromedp.Click(`label[for="action-choice-1"]`))
	ann.do(chromedp.SendKeys(chromedp.ID("action-reason"), "Cooling off after a heated exchange"))
	ann.click("#action-ok")
	ann.waitJS("muted", `!document.getElementById('action-dialog').open && document.getElementById('flash').textContent === 'Bob is muted for 1 hour.'`)
	// The facilitator's list says until when, and offers Unmute only.
	ann.waitJS("muted in the member list", memberMutedShown("bob", 60))
	if got := strings.Join(ann.menuItems(memberMenu("bob")), "|"); got != "Raise a concern|Block|Make a moderator|Unmute|Remove from the group…|Ban…" {
		t.Errorf("the owner's menu for a muted member offers %q", got)
	}
	// A member's list does not say who is muted.
	cat.click("#members-open")
	cat.waitJS("cat's member list", `document.querySelectorAll('#members-list li').length === 3`)
	if eval[bool](cat, `!!document.querySelector('#members-list .muted-tag')`) {
		t.Error("a member sees who is muted")
	}
	cat.click("#members-dialog [data-close]")

	bob.waitJS("muted state with its end", mutedUntilShown(60)+` && `+composerOff)
	// Both hold after a reload (from the server's replay and history).
	bob.do(chromedp.Reload())
	bob.waitJS("connected", `document.getElementById('conn-status').dataset.state === 'connected'`)
	bob.waitJS("both after a reload", removed+` && `+mutedUntilShown(60)+` && `+composerOff)
	bob.noSideScroll(360, "muted, with a hidden message")
	bob.screenshot("muted-phone.png")

	// The report is resolved with what was done.
	ann.click("#members-dialog [data-close]")
	ann.pick("#room-menu", "Reports (1 open)")
	ann.click(`#reports-list button[data-resolve]`)
	ann.waitJS("resolve dialog", `document.getElementById('action-dialog').open && document.getElementById('action-choice-legend').textContent === 'Outcome'`)
	ann.do(chromedp.Click(`label[for="action-choice-3"]`))
	ann.click("#action-ok")
	ann.waitJS("resolved, focus kept", `document.getElementById('reports-status').textContent === 'Report resolved. No open reports.' && document.getElementById('reports-dialog').contains(document.activeElement)`)
	ann.click(`#reports-dialog button[data-status="resolved"]`)
	ann.waitJS("in the resolved list", `[...document.querySelectorAll('#reports-list li')].some(li => li.querySelector('.queue-outcome')?.textContent.startsWith('Muted the person'))`)
	ann.click("#reports-dialog [data-close]")
	ann.click("#members-open")

	ann.pick(memberMenu("bob"), "Unmute")
	ann.waitJS("unmute dialog", `document.getElementById('action-dialog').open && document.getElementById('action-choices').hidden`)
	ann.click("#action-ok")
	bob.waitJS("can post again", composerOn+` && document.getElementById('room-state').hidden`)
	bob.write("Sorry. I'm calmer now.")
	ann.waitSent("Sorry. I'm calmer now.")

	sue := b.page("sue", 1280, 800)
	sue.signIn(n, sueTok)
	sue.click("#view-toggle")
	sue.click("#audit-open")
	sue.waitJS("the mute in the audit log", `document.getElementById('audit-dialog').open && [...document.querySelectorAll('#audit-list li')].some(li =>
		li.querySelector('.audit-action').textContent === 'Muted' && li.querySelector('.audit-actor').textContent === 'ann' && li.textContent.includes('Cooling off after a heated exchange'))`)
	sue.do(chromedp.SendKeys(chromedp.ID("audit-actor"), "nobody"))
	sue.click(`#audit-form button[type="submit"]`)
	sue.waitJS("filtered", `document.getElementById('audit-status').textContent === 'Nothing matches.' && document.querySelectorAll('#audit-list li').length === 0`)
}

// The owner changes the room's settings from its menu; members see them
// take effect: read-only disables their message box, slow mode counts
// down after each message. A member's menu offers neither settings nor
// invite links.
func TestOwnerChangesRoomSettings(t *testing.T) {
	n := startNode(t, 0, nil)
	annTok := n.user("ann", "Ann", auth.RoleSpecialist)
	bobTok := n.user("bob", "Bob", auth.RolePeer)
	room := n.createRoom(annTok, "Monday group", "")
	n.join(bobTok, room.ID)

	b := newBrowser(t)
	ann := b.page("ann", 1280, 800)
	ann.signIn(n, annTok)
	ann.openConversation(room.ID)
	bob := b.page("bob", 1280, 800)
	bob.signIn(n, bobTok)
	bob.openConversation(room.ID)
	if got := strings.Join(bob.menuItems("#room-menu"), "|"); got != "Leave this group" {
		t.Errorf("a member's group menu offers %q", got)
	}

	ann.pick("#room-menu", "Settings")
	ann.waitJS("settings dialog", `document.getElementById('settings-dialog').open && document.getElementById('set-public').checked && document.activeElement?.id === 'set-public'`)
	ann.click("#set-readonly")
	ann.click(`#settings-form button[type="submit"]`)
	ann.waitJS("saved", `!document.getElementById('settings-dialog').open && document.getElementById('flash').textContent === 'Settings saved.'`)
	bob.waitJS("read-only", composerOff+` && document.getElementById('room-state').textContent.includes('This group is read-only for now')`)

	ann.pick("#room-menu", "Settings")
	ann.waitJS("settings again", `document.getElementById('settings-dialog').open && document.getElementById('set-readonly').checked`)
	ann.click("#set-readonly")
	ann.do(chromedp.SetValue(chromedp.ID("set-slow"), "99999"))
	ann.click(`#settings-form button[type="submit"]`)
	ann.waitJS("out of range refused", `document.getElementById('settings-error').textContent.includes('from 0 to 3,600') && document.activeElement?.id === 'set-slow'`)
	ann.do(chromedp.SetValue(chromedp.ID("set-slow"), "120"))
	ann.click(`#settings-form button[type="submit"]`)
	ann.waitJS("saved again", `!document.getElementById('settings-dialog').open`)
	bob.waitJS("slow mode", composerOn+` && document.getElementById('room-state').textContent === 'Slow mode: one message every 120 seconds.'`)
	bob.write("One thought for now.")
	ann.waitSent("One thought for now.")
	bob.waitJS("countdown", `/You can send again in \d+ seconds\./.test(document.getElementById('room-state').textContent)`)
	bob.write("And another straight away.")
	bob.waitJS("held back, explained", `/slow mode\. Your message will be sent in \d+ seconds/.test(document.getElementById('notice-text').textContent) &&
		[...document.querySelectorAll('#message-list li.msg.pending')].some(li => li.textContent.includes('And another straight away.'))`)
}

// Pre-moderation: the owner turns it on in the settings; a newcomer is
// told their first messages are reviewed and sees each one "awaiting
// approval"; the owner approves one from the queue (everyone gets it) and
// rejects the other (its sender sees it was not approved).
func TestPreModeratedMessagesAreApprovedOrRejected(t *testing.T) {
	n := startNode(t, 0, nil)
	annTok := n.user("ann", "Ann", auth.RoleSpecialist)
	bobTok := n.user("bob", "Bob", auth.RolePeer)
	room := n.createRoom(annTok, "Newcomers' circle", "")
	n.join(bobTok, room.ID)

	b := newBrowser(t)
	ann := b.page("ann", 1280, 800)
	ann.signIn(n, annTok)
	ann.openConversation(room.ID)
	ann.pick("#room-menu", "Settings")
	ann.waitJS("settings", `document.getElementById('settings-dialog').open && !document.getElementById('set-premod-field').hidden`)
	ann.do(chromedp.SetValue(chromedp.ID("set-premod"), "2"))
	ann.click(`#settings-form button[type="submit"]`)
	ann.waitJS("saved", `!document.getElementById('settings-dialog').open`)

	bob := b.page("bob", 360, 740)
	bob.signIn(n, bobTok)
	bob.openNav()
	bob.click(fmt.Sprintf(`#sidebar button[data-conv=%q]`, room.ID))
	bob.waitJS("told of review", `document.getElementById('room-state').textContent === 'Your first 2 messages are reviewed by a moderator before the group sees them.'`)
	bob.write("Hi, I'm new here.")
	bob.write("Is it OK to just listen?")
	for _, text := range []string{"Hi, I'm new here.", "Is it OK to just listen?"} {
		bob.waitJS("awaiting approval", fmt.Sprintf(`[...document.querySelectorAll('#message-list li.msg.awaiting')].some(li => li.querySelector('.msg-body').textContent === %s && li.querySelector('.msg-state').textContent.startsWith('Awaiting approval'))`, js(text)))
	}
	bob.noSideScroll(360, "awaiting approval")

	ann.pick("#room-menu", "Awaiting approval (2)")
	ann.waitJS("queue", `document.getElementById('pending-dialog').open && document.querySelectorAll('#pending-list li').length === 2`)
	ann.click(`#pending-list li:first-child button[data-do="approve"]`)
	ann.waitJS("approved", `document.querySelectorAll('#pending-list li').length === 1 && document.getElementById('pending-status').textContent.startsWith('Approved') && document.activeElement?.dataset.do === 'approve'`)
	ann.click(`#pending-list button[data-do="reject"]`)
	ann.waitJS("reject dialog", `document.getElementById('action-dialog').open`)
	ann.click("#action-ok")
	ann.waitJS("queue empty", `document.querySelectorAll('#pending-list li').length === 0 && document.getElementById('pending-status').textContent === 'Rejected. Nothing is waiting.'`)
	ann.click("#pending-dialog [data-close]")
	ann.waitSent("Hi, I'm new here.")

	bob.waitSent("Hi, I'm new here.")
	bob.waitJS("not approved", `[...document.querySelectorAll('#message-list li.msg.rejected')].some(li => li.querySelector('.msg-body').textContent === 'Is it OK to just listen?' && li.querySelector('.msg-state').textContent.startsWith('Not approved by a moderator'))`)
	if got := ann.bodies(); strings.Join(got, "|") != "Hi, I'm new here." {
		t.Errorf("the group sees %q", got)
	}
}
