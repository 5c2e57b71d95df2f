package static_test

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/kindred-health/kindred/auth"
)

// memberMutedShown is true when user's entry in the member list says
// they are muted until about minutes from now, in local time.
func memberMutedShown(user string, minutes int) string {
	return fmt.Sprintf(`(() => {
		const tag = document.querySelector('#members-list li[data-member=%q] .muted-tag');
		return !!tag && %s.some(end => tag.textContent === 'muted until ' + end);
	})()`, user, muteEnds(minutes))
}

// muteEnds is a JS expression: the ways the page may name the end of a
// mute of about minutes from now (a minute either side), in local time.
// An end later today is a bare time ("14:05"); one on another day names
// the day too, so a mute set late in the evening reads "Friday 4
// December at 00:31".
func muteEnds(minutes int) string {
	return fmt.Sprintf(`[-1, 0, 1].map(d => {
		const end = new Date(Date.now() + (%d + d) * 60000);
		const today = end.toDateString() === new Date().toDateString();
		return new Intl.DateTimeFormat(undefined, today ? { hour: 'numeric', minute: '2-digit' } :
			{ weekday: 'long', day: 'numeric', month: 'long', hour: 'numeric', minute: '2-digit' }).format(end);
	})`, minutes)
}

// A facilitator bans a member from the member list, finds them in the
// room's ban list, unbans them there, and the member joins again.
func TestFacilitatorUnbansFromTheBanList(t *testing.T) {
	n := startNode(t, 0, nil)
	annTok := n.user("ann", "Ann", auth.RoleSpecialist)
	danTok := n.user("dan", "Dan", auth.RolePeer)
	room := n.createRoom(annTok, "Sunday group", "")
	n.join(danTok, room.ID)

	b := newBrowser(t)
	ann := b.page("ann", 1280, 800)
	ann.signIn(n, annTok)
	ann.openConversation(room.ID)
	ann.pick("#room-menu", "Banned people")
	ann.waitJS("empty ban list", `document.getElementById('bans-dialog').open && document.getElementById('bans-status').textContent === 'Nobody is banned.'`)
	ann.click("#bans-dialog [data-close]")

	ann.click("#members-open")
	ann.waitJS("member list", `document.querySelectorAll('#members-list li').length === 2`)
	ann.pick(memberMenu("dan"), "Ban…")
	ann.waitJS("ban dialog", `document.getElementById('action-dialog').open && document.getElementById('action-title').textContent === 'Ban Dan from Sunday group?'`)
	ann.do(chromedp.Click(`label[for="action-choice-2"]`))
	ann.do(chromedp.SendKeys(chromedp.ID("action-reason"), "Threats"))
	ann.click("#action-ok")
	ann.waitJS("banned", `!document.getElementById('action-dialog').open && document.getElementById('flash').textContent === 'Dan is banned for good.'`)
	ann.click("#members-dialog [data-close]")

	dan := b.page("dan", 1280, 800)
	dan.signIn(n, danTok)
	dan.click("#browse-rooms")
	dan.waitJS("directory loaded", `document.getElementById('rooms-dialog-status').textContent !== 'Loading groups…'`)
	dan.click(fmt.Sprintf(`#rooms-dialog button[data-room=%q]`, room.ID))
	dan.waitJS("join refused", `document.getElementById('rooms-dialog').open && document.getElementById('rooms-dialog-error').textContent !== ''`)

	ann.pick("#room-menu", "Banned people")
	ann.waitJS("dan in the ban list", `document.getElementById('bans-status').textContent === '1 person is banned' && (() => {
		const li = document.querySelector('#bans-list li[data-ban="dan"]');
		return li && li.textContent.includes('Dan') && li.textContent.includes('Banned for good by ann');
	})()`)
	ann.click(`#bans-list button[data-unban="dan"]`)
	ann.waitJS("unbanned", `document.getElementById('bans-status').textContent === 'Unbanned: they can join Sunday group again.' && document.querySelectorAll('#bans-list li').length === 0 && document.getElementById('bans-dialog').contains(document.activeElement)`)

	dan.click(fmt.Sprintf(`#rooms-dialog button[data-room=%q]`, room.ID))
	dan.waitJS("joined again", fmt.Sprintf(`document.getElementById('conv-title').textContent === %s && !document.getElementById('rooms-dialog').open`, js(room.Name)))
	dan.write("Thank you for letting me back.")
	ann.waitSent("Thank you for letting me back.")
}
