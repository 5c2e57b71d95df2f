package static_test

// Two or three pages in one video session (helpers in
// video_browser_test.go).

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/kindred-health/kindred/auth"
)

// A specialist starts a video session with the waiting room on; a peer on
// a phone asks to join and waits; the host sees them in the waiting list
// (and it is announced), denies a second asker (who asks again and
// cancels), admits the first, and
// each page plays the other's video. Then: the phone's chat toggle, self-mute, a host's mute the peer
// cannot lift, a shared screen, the host's connection dropping and her
// page rejoining, and the host ending the session for everyone.
func TestVideoSessionWaitingRoomAdmitAndPlay(t *testing.T) {
	n := startVideoNode(t)
	annTok := n.user("ann", "Ann", auth.RoleSpecialist)
	bobTok := n.user("bob", "Bob", auth.RolePeer)
	cyTok := n.user("cy", "Cy", auth.RolePeer)
	room := n.createRoom(annTok, "Thursday video circle", "")
	n.join(bobTok, room.ID)
	n.join(cyTok, room.ID)

	b := newMediaBrowser(t, true)
	ann := b.page("ann", 1280, 800)
	bob := b.page("bob", 375, 740) // a phone
	cy := b.page("cy", 1280, 800)
	ann.signIn(n, annTok)
	ann.openConversation(room.ID)
	bob.signIn(n, bobTok)
	bob.click("#nav-toggle")
	bob.waitJS("list open", `document.getElementById('sidebar').getBoundingClientRect().left === 0`)
	bob.openConversation(room.ID)
	if eval[bool](bob, `!document.getElementById('video-start').hidden`) {
		t.Error("a peer who does not own the room is offered to start a video session")
	}

	ann.click("#video-start")
	ann.waitJS("start dialog, waiting room on", `document.getElementById('video-start-dialog').open && document.getElementById('video-start-waiting').checked`)
	ann.click("#video-start-ok")
	ann.waitJS("host in the session", `!document.getElementById('video-stage').hidden && document.querySelector('.tile.self video')?.videoWidth > 0`)

	bob.waitJS("live banner", `!document.getElementById('video-banner').hidden && document.getElementById('video-banner-text').textContent.includes('Ann')`)
	bob.click("#video-join")
	bob.waitJS("waiting room", `!document.getElementById('video-waiting-room').hidden && document.activeElement?.id === 'video-waiting-title'`)
	ann.waitJS("Bob in the waiting list, announced", `[...document.querySelectorAll('#video-wl li')].some((li) => li.textContent.includes('Bob')) && [...document.querySelectorAll('#announcer p')].some((p) => p.textContent === 'Bob is waiting to join the video session.')`)
	bob.screenshot("video-waiting-room-phone.png")

	// Cy asks too; the host turns him away, in words he reads.
	cy.signIn(n, cyTok)
	cy.openConversation(room.ID)
	cy.click("#video-join")
	cy.waitJS("waiting room", `!document.getElementById('video-waiting-room').hidden`)
	ann.waitJS("both waiting, Admit all offered", `document.querySelectorAll('#video-wl li').length === 2 && !document.getElementById('video-admit-all').hidden && document.getElementById('video-wl-title').textContent === 'Waiting to join (2)'`)
	ann.screenshot("video-waiting-list.png")
	ann.click(`#video-wl button[data-act="deny"][data-user="cy"]`)
	cy.waitJS("denied in words", `!document.getElementById('video-ended').hidden && document.getElementById('video-ended-text').textContent === 'The host didn’t let you in this time.' && document.activeElement?.id === 'video-ended-title'`)
	// He asks again, and thinks better of it while waiting.
	cy.click("#video-close")
	cy.click("#video-join")
	cy.waitJS("waiting again", `!document.getElementById('video-waiting-room').hidden`)
	ann.waitJS("Cy waiting again", `document.querySelectorAll('#video-wl li').length === 2`)
	cy.click("#video-cancel")
	cy.waitJS("out of the waiting room", `document.getElementById('video').hidden && !document.getElementById('video-banner').hidden`)
	ann.waitJS("Cy no longer waiting", `document.querySelectorAll('#video-wl li').length === 1 && document.querySelector('#video-wl li').textContent.includes('Bob')`)

	ann.click(`#video-wl button[data-act="admit"][data-user="bob"]`)
	bob.waitJS("admitted", `!document.getElementById('video-stage').hidden && document.getElementById('video-waiting-room').hidden`)
	ann.waitJS("waiting list empty", `document.getElementById('video-waiting-list').hidden`)

	ann.seesVideoOf("bob")
	bob.seesVideoOf("ann")
	ann.screenshot("video-desktop.png")

	// On the phone the video fills the screen, the chat one tap away.
	bob.waitJS("video over the chat", `!document.getElementById('main').checkVisibility() && document.getElementById('video-grid').getBoundingClientRect().height > 300`)
	if w := eval[int](bob, `document.documentElement.scrollWidth`); w > 375 {
		t.Errorf("the phone's page is %dpx wide at a 375px viewport", w)
	}
	bob.screenshot("video-phone.png")
	bob.click("#video-chat")
	bob.waitJS("chat shown, video a strip", `document.getElementById('main').checkVisibility() && !document.getElementById('video-grid').checkVisibility() && document.activeElement?.id === 'composer-input'`)
	bob.write("Can you hear me?")
	ann.waitSent("Can you hear me?")
	bob.screenshot("video-phone-chat.png")
	bob.click("#video-back")
	bob.waitJS("video again", `!document.getElementById('main').checkVisibility() && document.getElementById('video-grid').checkVisibility()`)

	// Bob mutes himself, from the keyboard: Ann's tile of him says so; he
	// unmutes.
	bobMic := `document.querySelector('.tile.camera[data-user="bob"] .tile-mic')`
	bob.do(chromedp.Focus(chromedp.ID("video-mic")))
	bob.enter(0)
	bob.waitJS("mic off", `document.getElementById('video-mic').getAttribute('aria-pressed') === 'false'`)
	ann.waitJS("Bob shown muted", `!`+bobMic+`.hidden && `+bobMic+`.textContent === 'Microphone off'`)
	if sending(bob, "audio") {
		t.Error("a muted microphone's track is still enabled")
	}
	bob.click("#video-mic")
	ann.waitJS("Bob shown unmuted", bobMic+`.hidden`)

	// Ann, the host, mutes Bob: he is told, and his microphone stays off.
	ann.pick(`button[data-tile-menu="bob"]`, "Mute microphone")
	ann.waitJS("Bob shown muted by the host", bobMic+`.textContent === 'Muted by the host'`)
	bob.waitJS("held", `document.getElementById('video-hold').textContent === 'Muted by the host.' && document.getElementById('video-mic').getAttribute('aria-disabled') === 'true' && document.getElementById('video-mic').getAttribute('aria-pressed') === 'false'`)
	bob.click("#video-mic")
	if eval[string](bob, `document.getElementById('video-mic').getAttribute('aria-pressed')`) != "false" || sending(bob, "audio") {
		t.Error("a held microphone was switched on")
	}

	// And stops his camera: his tile shows his initial; his track is off.
	bobTile := `document.querySelector('.tile.camera[data-user="bob"]')`
	ann.pick(`button[data-tile-menu="bob"]`, "Stop camera")
	ann.waitJS("Bob's camera shown stopped", bobTile+`.classList.contains('cam-off') && `+bobTile+`.querySelector('.tile-cam').textContent === 'Camera stopped by the host'`)
	bob.waitJS("camera held", `document.getElementById('video-hold').textContent === 'Muted by the host. Your camera was stopped by the host.' && document.getElementById('video-cam').getAttribute('aria-disabled') === 'true'`)
	if sending(bob, "video") {
		t.Error("a camera stopped by the host still sends")
	}
	ann.pick(`button[data-tile-menu="bob"]`, "Allow their camera")
	bob.waitJS("camera allowed", `document.getElementById('video-cam').getAttribute('aria-disabled') !== 'true'`)

	// Ann shares her screen: a second video track, offered mid-session;
	// Bob gets a tile for it. When she stops, it goes.
	ann.click("#video-screen")
	annScreen := `document.querySelector('.tile.screen[data-user="ann"] video')`
	bob.waitJS("Ann's screen plays", annScreen+`?.videoWidth > 0`)
	ann.waitJS("sharing", `document.getElementById('video-screen').getAttribute('aria-pressed') === 'true'`)
	ann.click("#video-screen")
	bob.waitJS("Ann's screen gone", `!`+annScreen)

	// Ann's connection to the node drops and comes back: her place went
	// with it, so her page joins again (a host goes straight in) and Bob
	// plays her new tracks.
	ann.setOffline(true)
	bob.waitJS("Ann left with her connection", `!document.querySelector('.tile.camera[data-user="ann"]')`)
	ann.setOffline(false)
	ann.waitJS("back in the session", `document.getElementById('conn-status').dataset.state === 'connected' && !document.getElementById('video-stage').hidden && document.getElementById('video-status').textContent === ''`)
	bob.seesVideoOf("ann")
	ann.seesVideoOf("bob")
	ann.waitJS("host menu on Bob's tile again", `document.querySelector('button[data-tile-menu="bob"]')`)

	// Ann ends the session for everyone.
	ann.click("#video-end")
	ann.waitJS("confirmation", `document.getElementById('confirm-dialog').open`)
	ann.click("#confirm-ok")
	for _, p := range []*page{ann, bob} {
		p.waitJS("ended in words", `!document.getElementById('video-ended').hidden && document.getElementById('video-ended-text').textContent === 'The host ended the video session.'`)
	}
	bob.click("#video-close")
	bob.waitJS("panel closed", `document.getElementById('video').hidden && !document.getElementById('layout').classList.contains('video-on')`)
}

// Without a waiting room members join straight away. Someone who signs in
// after the session started sees it is live; with the camera and
// microphone refused they are told so in words, join to watch and listen,
// see the host's video, and show up muted with their camera off. When they
// leave, the host's page says so. Someone without a camera joins with
// their microphone only.
func TestVideoWithoutCameraOrPermission(t *testing.T) {
	n := startVideoNode(t)
	annTok := n.user("ann", "Ann", auth.RoleSpecialist)
	cyTok := n.user("cy", "Cy", auth.RolePeer)
	deeTok := n.user("dee", "Dee", auth.RolePeer)
	room := n.createRoom(annTok, "Open video circle", "")
	n.join(cyTok, room.ID)
	n.join(deeTok, room.ID)

	b := newMediaBrowser(t, true)
	ann := b.page("ann", 1280, 800)
	ann.signIn(n, annTok)
	ann.openConversation(room.ID)
	ann.click("#video-start")
	ann.waitJS("start dialog", `document.getElementById('video-start-dialog').open`)
	ann.do(chromedp.Click(chromedp.ID("video-start-waiting")))
	ann.click("#video-start-ok")
	ann.waitJS("host in the session", `!document.getElementById('video-stage').hidden && document.querySelector('.tile.self video')?.videoWidth > 0`)

	// Another browser: in this one the fake prompt would say yes.
	cy := newMediaBrowser(t, false).page("cy", 1280, 800)
	cy.deny(n)
	cy.signIn(n, cyTok)
	cy.openConversation(room.ID)
	cy.waitJS("live banner after sign-in", `!document.getElementById('video-banner').hidden`)
	cy.click("#video-join")
	cy.waitJS("told the camera is refused", `!document.getElementById('video-problem').hidden && document.getElementById('video-problem-text').textContent.includes('isn’t allowed to use your camera') && document.activeElement?.id === 'video-problem-title'`)
	cy.click("#video-watch")
	cy.waitJS("in without media", `!document.getElementById('video-stage').hidden && document.getElementById('video-mic').getAttribute('aria-disabled') === 'true' && document.getElementById('video-cam').getAttribute('aria-disabled') === 'true'`)
	cy.seesVideoOf("ann")
	cyTile := `document.querySelector('.tile.camera[data-user="cy"]')`
	ann.waitJS("Cy shown muted, camera off", cyTile+`?.querySelector('.tile-mic').textContent === 'Microphone off' && `+cyTile+`.classList.contains('cam-off') && `+cyTile+`.querySelector('.tile-avatar').textContent === 'C'`)

	cy.click("#video-leave")
	cy.waitJS("left, banner back", `document.getElementById('video').hidden && !document.getElementById('video-banner').hidden`)
	ann.waitJS("Cy gone, announced", `!`+cyTile+` && [...document.querySelectorAll('#announcer p')].some((p) => p.textContent === 'Cy left the video session.')`)

	// Dee has a microphone and no camera: she joins with sound only.
	dee := b.page("dee", 1280, 800)
	dee.noCamera()
	dee.signIn(n, deeTok)
	dee.openConversation(room.ID)
	dee.click("#video-join")
	dee.waitJS("in with the microphone only", `!document.getElementById('video-stage').hidden && document.getElementById('video-mic').getAttribute('aria-pressed') === 'true' && document.getElementById('video-cam').getAttribute('aria-disabled') === 'true' && [...document.querySelectorAll('#announcer p')].some((p) => p.textContent.endsWith('No camera was found, so you joined with your microphone only.'))`)
	deeTile := `document.querySelector('.tile.camera[data-user="dee"]')`
	ann.waitJS("Dee shown with her microphone on, camera off", deeTile+`?.classList.contains('cam-off') && `+deeTile+`.querySelector('.tile-mic').hidden`)
}

// In a one-on-one chat the specialist starts a video call (no waiting
// room by default there); the peer, who may not start one, joins from the
// banner straight away and each plays the other's video. Only the
// specialist has host controls; she removes the peer, who is told so.
func TestVideoCallInDirectMessage(t *testing.T) {
	n := startVideoNode(t)
	annTok := n.user("ann", "Ann", auth.RoleSpecialist)
	bobTok := n.user("bob", "Bob", auth.RolePeer)
	dm, err := n.store.OpenDM(context.Background(), "ann", "bob")
	if err != nil {
		t.Fatal(err)
	}

	b := newMediaBrowser(t, true)
	ann := b.page("ann", 1280, 800)
	bob := b.page("bob", 1280, 800)
	ann.signIn(n, annTok)
	ann.openConversation(dm.ID)
	bob.signIn(n, bobTok)
	bob.openConversation(dm.ID)
	if eval[bool](bob, `!document.getElementById('video-start').hidden`) {
		t.Error("a peer is offered to start a video call in a DM")
	}
	ann.click("#video-start")
	ann.waitJS("start dialog, no waiting room", `document.getElementById('video-start-dialog').open && !document.getElementById('video-start-waiting').checked && document.getElementById('video-start-text').textContent.startsWith('A video call with Bob.')`)
	ann.click("#video-start-ok")
	bob.waitJS("live banner", `!document.getElementById('video-banner').hidden`)
	bob.click("#video-join")
	bob.seesVideoOf("ann")
	ann.seesVideoOf("bob")
	if eval[bool](ann, `!document.querySelector('button[data-tile-menu="bob"]') || document.getElementById('video-end').hidden`) {
		t.Error("the specialist who started the call has no host controls")
	}
	if eval[bool](bob, `!!document.querySelector('button[data-tile-menu]') || !document.getElementById('video-end').hidden`) {
		t.Error("the peer is offered host controls")
	}
	ann.pick(`button[data-tile-menu="bob"]`, "Remove from the session")
	ann.waitJS("confirmation", `document.getElementById('confirm-dialog').open && document.getElementById('confirm-title').textContent === 'Remove Bob from the video session?'`)
	ann.click("#confirm-ok")
	bob.waitJS("removed, in words", `!document.getElementById('video-ended').hidden && document.getElementById('video-ended-text').textContent === 'A host removed you from the video session.'`)
	ann.waitJS("Bob's tile gone", `!document.querySelector('.tile.camera[data-user="bob"]')`)
}
