package static_test

// Browser tests of video sessions: headless Chromium with a fake camera
// and microphone (a moving test pattern and a beep) against a real node
// with its SFU. Every wait is on a condition in the page, with the
// harness's generous timeout; nothing depends on how long media took.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/kindred-health/kindred/chat/server"
	"github.com/kindred-health/kindred/signaling"
	"github.com/pion/webrtc/v4"
)

// newMediaBrowser is newBrowser with fake media devices; with allow, the
// permission prompt is answered "allow" (as a person would), without it
// the page decides (see deny).
func newMediaBrowser(t *testing.T, allow bool) *browser {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("browser tests need %s: %v", chromiumPath, err)
		}
		t.Skipf("skipping browser test: %s not found (install chromium; CI=true makes this a failure)", chromiumPath)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-fake-ui-for-media-stream", allow),
		// See loopbackICE.
		chromedp.Flag("allow-loopback-in-peer-connection", true),
		chromedp.UserDataDir(t.TempDir()),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return &browser{t: t, ctx: ctx}
}

// quietLogger keeps the SFU's logs out of the test output.
func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

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

// onPeerConnections calls the JavaScript function fn with this bound to
// the page's RTCPeerConnections (an array) and the given arguments, and
// returns its result. It finds them through DevTools (Runtime.queryObjects),
// so the client needs no test hook that exposes its connection.
func onPeerConnections[T any](p *page, fn string, args ...any) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, waitFor)
	defer cancel()
	var out T
	proto, err := chromedp.Call(ctx, runtime.Evaluate, runtime.EvaluateParams{Expression: "RTCPeerConnection.prototype"})
	if err != nil || proto.Result == nil {
		p.t.Fatalf("%s: RTCPeerConnection.prototype: %v", p.name, err)
	}
	objs, err := chromedp.Call(ctx, runtime.QueryObjects, runtime.QueryObjectsParams{PrototypeObjectID: proto.Result.ObjectID})
	if err != nil || objs.Objects == nil {
		p.t.Fatalf("%s: query peer connections: %v", p.name, err)
	}
	var callArgs []*runtime.CallArgument
	for _, a := range args {
		v, _ := json.Marshal(a)
		callArgs = append(callArgs, &runtime.CallArgument{Value: v})
	}
	yes := true
	res, err := chromedp.Call(ctx, runtime.CallFunctionOn, runtime.CallFunctionOnParams{
		ObjectID: objs.Objects.ObjectID, AwaitPromise: &yes, ReturnByValue: &yes, FunctionDeclaration: fn, Arguments: callArgs,
	})
	if err != nil || res.Result == nil || res.ExceptionDetails != nil {
		p.t.Fatalf("%s: on the peer connections: %v %+v", p.name, err, res.ExceptionDetails)
	}
	if err := json.Unmarshal([]byte(res.Result.Value), &out); err != nil {
		p.t.Fatalf("%s: result %s: %v", p.name, res.Result.Value, err)
	}
	return out
}

// framesDecoded sums the video frames decoded by the page's peer
// connections.
func framesDecoded(p *page) int {
	p.t.Helper()
	return onPeerConnections[int](p, `async function () {
		let n = 0;
		for (const pc of this) {
			if (pc.connectionState === 'closed') continue;
			(await pc.getStats()).forEach((r) => { if (r.type === 'inbound-rtp' && r.kind === 'video') n += r.framesDecoded || 0; });
		}
		return n;
	}`)
}

// loopbackICE keeps the media on 127.0.0.1, like the WebSocket. Chromium
// leaves loopback addresses out of ICE unless started with
// --allow-loopback-in-peer-connection, and pion leaves them out unless
// told to include them; with both, the SFU offers 127.0.0.1 alone and the
// test needs no network interface but lo. (Without them it also works
// where the machine has another address, eth0 here: Chromium shows its
// real host addresses, not mDNS names, once the page may use the camera,
// and pion's default candidates are those addresses. But that depends on
// the machine's interfaces and firewall.)
func loopbackICE(se *webrtc.SettingEngine) {
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIncludeLoopbackCandidate(true)
	se.SetInterfaceFilter(func(name string) bool { return name == "lo" })
}

// startVideoNode is startNode with an SFU.
func startVideoNode(t *testing.T) *node {
	t.Helper()
	sfu, err := signaling.New(signaling.Config{Logger: quietLogger(), Configure: loopbackICE})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sfu.Close)
	return startNode(t, 0, func(c *server.Config) { c.Video = sfu })
}

// waitFrames waits until the page has decoded more video frames than
// before.
func (p *page) waitFrames(before int) {
	p.t.Helper()
	deadline := time.Now().Add(waitFor)
	for framesDecoded(p) <= before {
		if time.Now().After(deadline) {
			p.t.Fatalf("%s: no video frame decoded after %d\n%s", p.name, before, p.state())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// seesVideoOf waits until the page plays user's camera: the <video> has
// a size, its time advances, and getStats counts frames decoded rising.
func (p *page) seesVideoOf(user string) {
	p.t.Helper()
	v := fmt.Sprintf(`document.querySelector('.tile.camera[data-user=%q] video')`, user)
	p.waitJS(user+"'s video has a size", v+`?.videoWidth > 0 && `+v+`.videoHeight > 0`)
	t0 := eval[float64](p, v+`.currentTime`)
	p.waitJS(user+"'s video plays", fmt.Sprintf(`%s.currentTime > %f + 0.5`, v, t0))
	p.waitFrames(framesDecoded(p))
}

// deny refuses the page's origin the camera and microphone, as a person
// who clicked "Block" in the browser's prompt.
func (p *page) deny(n *node) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, waitFor)
	defer cancel()
	id := chromedp.FromContext(p.ctx).BrowserContextID
	for _, name := range []string{"camera", "microphone"} {
		if _, err := chromedp.Call(ctx, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
			Permission: &cdpbrowser.PermissionDescriptor{Name: name}, Setting: cdpbrowser.PermissionSettingDenied,
			Origin: n.url, BrowserContextID: id,
		}); err != nil {
			p.t.Fatalf("%s: deny %s: %v", p.name, name, err)
		}
	}
}

// noCamera makes the page's browser report no camera: getUserMedia with
// video fails with NotFoundError, as on a computer without one. (The fake
// device always has a camera.)
func (p *page) noCamera() {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, waitFor)
	defer cancel()
	if _, err := chromedp.Call(ctx, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{Source: `(() => {
		const gum = MediaDevices.prototype.getUserMedia;
		MediaDevices.prototype.getUserMedia = function (c) {
			if (c && c.video) return Promise.reject(new DOMException('Requested device not found', 'NotFoundError'));
			return gum.call(this, c);
		};
	})()`}); err != nil {
		p.t.Fatalf("%s: no camera: %v", p.name, err)
	}
}

// sending reports whether the page's peer connections have an enabled
// track of kind ("audio" or "video") to send: a muted microphone or a
// stopped camera must be disabled in the browser, not only at the server.
func sending(p *page, kind string) bool {
	p.t.Helper()
	return onPeerConnections[bool](p, `async function (kind) {
		return this.some((pc) => pc.connectionState !== 'closed' &&
			pc.getSenders().some((s) => s.track && s.track.kind === kind && s.track.enabled));
	}`, kind)
}
