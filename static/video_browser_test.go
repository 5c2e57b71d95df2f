package static_test

// Browser tests of video sessions: headless Chromium with a fake camera
// and microphone (a moving test pattern and a beep) against a real node
// with its SFU. Every wait is on a condition in the page, with the
// harness's generous timeout; nothing depends on how long media took.

import (
	"context"
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
)

// The grid adapts from 1 to 12 tiles (1, 2, 2x2, 3x3, 3x4), names each
// person, shows who is muted and by whom, outlines the speaker, and gives
// a host a menu on every other person's tile (not on their own).
func TestVideoGridAdaptsFromOneToTwelve(t *testing.T) {
	n := startNode(t, 0, nil)
	b := newBrowser(t)
	p := b.page("grid", 1280, 800)
	p.do(chromedp.Navigate(n.url + "/"))
	type shape struct {
		Count, Cols, Rows int
		Fits              bool
	}
	ctx, cancel := context.WithTimeout(p.ctx, waitFor)
	defer cancel()
	got, err := chromedp.Run(ctx, chromedp.Evaluate[[]shape](`(async () => {
		const { Grid } = await import('/js/video/grid.js');
		const root = document.createElement('ul');
		root.className = 'video-grid';
		const box = document.createElement('div');
		box.className = 'video-stage';
		box.append(root);
		document.body.append(box);
		const g = new Grid(root, { amHost: () => true, hostAction: () => {} });
		const out = [];
		for (let i = 1; i <= 12; i++) {
			g.person({ user: 'u' + i, name: 'Person ' + i, audio: 'on', video: 'on', screen: 'off' }, i === 1);
			const tiles = [...root.children];
			const cols = new Set(tiles.map((li) => Math.round(li.getBoundingClientRect().left))).size;
			const rows = new Set(tiles.map((li) => Math.round(li.getBoundingClientRect().top))).size;
			out.push({ Count: Number(root.dataset.count), Cols: cols, Rows: rows, Fits: document.documentElement.scrollWidth <= innerWidth });
		}
		return out;
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	wantCols := []int{1, 2, 2, 2, 3, 3, 3, 3, 3, 4, 4, 4}
	wantRows := []int{1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3}
	if len(got) != len(wantCols) {
		t.Fatalf("%d grid shapes measured, want %d", len(got), len(wantCols))
	}
	for i, s := range got {
		if s.Count != i+1 || s.Cols != wantCols[i] || s.Rows != wantRows[i] || !s.Fits {
			t.Errorf("%d tiles: %+v, want %d columns and %d rows, within the page", i+1, s, wantCols[i], wantRows[i])
		}
	}

	type tileState struct {
		Names    []string
		Mic      string
		HostMic  string
		Speaking []string
		Menus    int
		Screen   bool
	}
	st, err := chromedp.Run(ctx, chromedp.Evaluate[tileState](`(async () => {
		const root = document.querySelector('.video-grid');
		const { Grid } = await import('/js/video/grid.js');
		root.replaceChildren();
		const g = new Grid(root, { amHost: () => true, hostAction: () => {} });
		g.person({ user: 'me', name: 'Ann', audio: 'on', video: 'on', screen: 'off' }, true);
		g.person({ user: 'bo', name: 'Bo', audio: 'off', video: 'on', screen: 'off' });
		g.person({ user: 'cy', name: 'Cy', audio: 'off_by_host', video: 'off', screen: 'on' });
		g.setVideo('cy', 'Cy', 'screen', new MediaStream());
		g.speaking('bo');
		const tile = (u) => root.querySelector('.tile[data-user="' + u + '"]:not(.screen)');
		return {
			Names: [...root.querySelectorAll('.tile-name')].map((e) => e.textContent),
			Mic: tile('bo').querySelector('.tile-mic').hidden ? '' : tile('bo').querySelector('.tile-mic').textContent,
			HostMic: tile('cy').querySelector('.tile-mic').textContent,
			Speaking: [...root.querySelectorAll('.tile.speaking .tile-name')].map((e) => e.textContent),
			Menus: root.querySelectorAll('button[data-tile-menu]').length,
			Screen: !!root.querySelector('.tile.screen[data-user="cy"]'),
		};
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	want := tileState{
		Names: []string{"Cy’s screen", "Ann (you)", "Bo", "Cy"}, Mic: "Microphone off", HostMic: "Muted by the host",
		Speaking: []string{"Bo"}, Menus: 2, Screen: true,
	}
	if fmt.Sprint(st) != fmt.Sprint(want) {
		t.Errorf("tiles\n got %+v\nwant %+v", st, want)
	}
}
