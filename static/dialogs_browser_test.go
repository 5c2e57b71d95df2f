package static_test

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/kindred-health/kindred/auth"
)

// A dialog's close event comes a task after it closed, later still when
// the page is busy. A member who puts the guidelines off ("Not now") and
// at once asks for them again ("Read the guidelines") gets a dialog whose
// Accept works, even when the reopening beats that event.
func TestGuidelinesReopenedAtOnceCanBeAccepted(t *testing.T) {
	n := startNode(t, 0, nil)
	annTok := n.user("ann", "Ann", auth.RoleSpecialist)
	bobTok := n.user("bob", "Bob", auth.RolePeer)
	room := n.createRoom(annTok, "Wednesday circle", "")
	n.api("PATCH", "/api/rooms/"+room.ID, annTok, map[string]any{"guidelines": groupGuidelines}, nil)

	b := newBrowser(t)
	bob := b.page("bob", 1280, 800)
	bob.signIn(n, bobTok)
	bob.click("#browse-rooms")
	bob.click(fmt.Sprintf(`#rooms-dialog button[data-room=%q]`, room.ID))
	bob.waitJS("guidelines shown on joining", `document.getElementById('guidelines-dialog').open`)
	// Both in one task: the reopening comes before the first close event.
	bob.do(chromedp.Evaluate[chromedp.Void](`document.getElementById('guidelines-later').click();
		document.querySelector('#room-state button[data-state-act="guidelines"]').click()`))
	bob.waitJS("guidelines again", `document.getElementById('guidelines-dialog').open && document.activeElement?.id === 'guidelines-text'`)
	bob.click("#guidelines-ok")
	bob.waitJS("accepted: box on and focused", `!document.getElementById('guidelines-dialog').open && `+composerOn+` && document.activeElement?.id === 'composer-input' &&
		document.getElementById('room-state').hidden`)
}
