// Kindred's browser client: wires the session (token), the WebSocket
// connection, the conversation store and the views together.
//
// Privacy rules kept throughout: the token lives only in this tab's
// sessionStorage; nothing is written to the console; signing out (by hand
// or after the idle timeout) clears storage and empties the page, and ends
// a browser session on the server too. How this tab is signed in, and
// staying so, is auth.js; the sign-in page is signin.js.

import { $, newID, plural, roleLabel, utf8Length } from './dom.js';
import { Alerts } from './alerts.js';
import { Api } from './api.js';
import { Auth } from './auth.js';
import { AUTH_CODES, Connection } from './connection.js';
import { describe, isTemporary } from './errors.js';
import { EscalationQueue } from './escalations.js';
import { IdleTimer } from './idle.js';
import { PushToggle, takeOpenRequest } from './push.js';
import {
  clearSession, loadActive, loadMarks, loadToken, loadView, saveActive, saveMarks, saveView, takeFromURL,
} from './session.js';
import { reasonText, SignInPage } from './signin.js';
import { ModApi } from './modapi.js';
import { ModLive } from './modlive.js';
import { Moderation } from './moderation.js';
import { ActionDialog } from './ui/actiondialog.js';
import { AuditDialog } from './ui/audit.js';
import { ChooseNameDialog } from './ui/choosename.js';
import { PeopleDialog } from './ui/people.js';
import { SignInSetup } from './ui/signinsetup.js';
import { RoomTools } from './ui/roomtools.js';
import { Store } from './store.js';
import { announce, announceUrgent, clearAnnouncements } from './ui/announcer.js';
import { Composer } from './ui/composer.js';
import { Dashboard } from './ui/dashboard.js';
import { PageBanner } from './ui/pagebanner.js';
import { RotaDialog } from './ui/rota.js';
import { closeAllDialogs, closeDialog, confirmDialog, openDialog, setupDialogs } from './ui/dialogs.js';
import { MembersDialog } from './ui/members.js';
import { MessageView } from './ui/messages.js';
import { HelpDialog } from './ui/help.js';
import { flagMessage, raiseConcern, ReportDialog } from './ui/report.js';
import { CreateRoomDialog, RoomsDialog } from './ui/rooms.js';
import { Sidebar } from './ui/sidebar.js';
import { Video } from './video/video.js';

const DEFAULT_IDLE_MS = 30 * 60 * 1000;
const STATE_TEXT = {
  connecting: 'Connecting…',
  connected: 'Connected',
  reconnecting: 'Reconnecting…',
  offline: 'Offline',
};
const CAN_CREATE_ROOMS = new Set(['specialist', 'supervisor', 'admin']);
const SUPERVISES = new Set(['supervisor', 'admin']);
const FLASH_MS = 10000;
const narrow = window.matchMedia('(max-width: 760px)');

class App {
  constructor() {
    this.auth = new Auth({
      renewed: (grant) => this.renewed(grant),
      ended: (reason, e) => this.signOut(reason, { detail: e && e.detail && e.detail.message }),
      activeElsewhere: () => {
        if (this.idle) this.idle.elsewhere();
        closeDialog($('idle-dialog'));
      },
    });
    this.signin = new SignInPage({
      signedIn: (grant, expiry) => this.startBrowserSession(grant, expiry),
      token: (token) => {
        clearSession();
        this.auth.useToken(token);
        this.startSession();
      },
      invite: () => this.pendingInvite,
    });
    this.afterSignIn = null; // {newAccount, invite} of a sign-in just made
    this.supervising = false;
    this.conn = null;
    this.idle = null;
    this.idleMs = DEFAULT_IDLE_MS;
    this.baseIdleMs = DEFAULT_IDLE_MS;
    this.flushTimer = 0;
    this.marksQueued = false;
    this.restoreActive = null;
    this.headerFor = null; // the conversation whose header is shown
    // Support notes dismissed here that the server has not confirmed yet
    // (sent again after a reconnect, and not shown again meanwhile).
    this.dismissing = new Set();
    this.store = new Store();
    this.api = new Api(() => this.token, () => this.auth.renew());
    this.view = 'chat'; // or 'dashboard' (supervisors)
    this.flashTimer = 0;
    this.report = new ReportDialog();
    this.queue = new EscalationQueue();
    this.alerts = new Alerts(() => this.dashboard.renderAlerts());
    this.dashboard = new Dashboard(this.queue, this.alerts, {
      api: this.api,
      me: () => this.store.me,
      isMember: (id) => this.store.convs.has(id),
      openRoom: (id) => this.openFromDashboard(id),
      openDM: (conv) => this.openFromDashboard(conv.id, conv),
      announce: (text) => announce(text),
      urgent: (text) => announceUrgent(text),
      visible: () => this.view === 'dashboard' && document.visibilityState === 'visible',
      showBanner: (text, id) => this.showBanner(text, id),
      pagingChanged: () => {
        this.renderTitle();
        if (this.banner) this.banner.sync();
      },
      show: (id) => {
        this.showView('dashboard');
        this.dashboard.select(id, { focus: true });
      },
    });
    this.queue.on('changed', () => this.renderViewToggle());
    this.rota = new RotaDialog({ api: this.api, me: () => this.store.me, announce: (text) => announce(text) });
    this.banner = new PageBanner({
      ack: (id) => this.dashboard.ackFrom(id),
      paging: (id) => this.dashboard.paging.has(id),
      announce: (text) => announce(text),
      review: (id) => {
        this.showView('dashboard');
        if (id) this.dashboard.select(id, { focus: true });
        else $('dash-title').focus();
      },
    });
    this.push = new PushToggle(this.api, () => this.store.me && this.store.me.id);
    this.people = new PeopleDialog({ api: this.api, me: () => this.store.me });
    this.setup = new SignInSetup({ api: this.api, me: () => this.store.me });
    this.chooseName = new ChooseNameDialog((name) => this.rename(name));
    // A click on a Web Push notice, in a tab that is open (sw.js).
    if ('serviceWorker' in navigator) {
      navigator.serviceWorker.addEventListener('message', (ev) => {
        if (ev.data && ev.data.type === 'open-escalation' && this.supervising) {
          this.showView('dashboard');
          if (ev.data.id) this.dashboard.select(ev.data.id, { focus: true });
        }
      });
    }

    const s = this.store;
    this.pendingInvite = null;
    this.mod = new ModApi(this.api);
    this.actions = new ActionDialog(s);
    // Parts of moderation whose server routes may not be there yet.
    this.features = { reports: true, hide: true, pins: true, premod: true, blocks: true };
    this.live = new ModLive({
      store: s,
      mod: this.mod,
      actions: this.actions,
      features: this.features,
      request: (frame) => this.request(frame),
      flash: (text) => this.showFlash(text),
      notice: (text) => this.showNotice(text),
    });
    this.moderation = new Moderation({
      store: s,
      mod: this.mod,
      actions: this.actions,
      features: this.features,
      flash: (text) => this.showFlash(text),
      refreshMembers: (id) => this.fetchMembers(id).catch(() => {}),
      remove: (m) => this.deleteMessage(m),
      flag: (m) => this.flagMessage(m),
      concern: (member, conv) => this.raiseConcern(member, conv),
      report: (m) => this.live.report(m),
      hide: (m) => this.live.hide(m),
      pin: (m) => this.live.pin(m),
      unpin: (m) => this.live.unpin(m),
      'report-person': (member, conv) => this.live.reportPerson(member, conv),
      block: (member) => this.live.block(member),
      unblock: (member) => this.live.unblock(member),
      isBlocked: (user) => this.live.isBlocked(user),
    });
    this.tools = new RoomTools({
      store: s,
      mod: this.mod,
      features: this.features,
      flash: (text) => this.showFlash(text),
      notice: (text) => {
        if ($('conv').hidden) $('no-conv-error').textContent = text;
        else this.showNotice(text);
      },
      openConversation: (id) => this.openConversation(id, {}),
      focusComposer: () => $('composer-input').focus(),
      leave: () => this.leave(),
      rerender: () => this.messages.render({}),
      extraEntries: (conv) => this.live.roomEntries(conv),
      extraPick: (id, conv) => this.live.roomPick(id, conv),
    });
    this.audit = new AuditDialog(s, {
      load: (q) => this.mod.audit(q),
      rooms: () => s.sortedConvs('room').map((c) => ({ id: c.id, name: c.name })),
    });
    this.sidebar = new Sidebar(s, (id, opts) => this.openConversation(id, opts));
    this.messages = new MessageView(s, {
      loadOlder: () => this.loadOlder(),
      edit: (m, body) => this.editMessage(m, body),
      actions: (m) => this.moderation.messageActions(m),
      actionsKey: (m) => this.moderation.messageActionsKey(m),
      pick: (id, m, btn) => this.moderation.messagePick(id, m, btn),
      dismiss: (key) => {
        // A support note is dismissed on every device of this person.
        const gone = s.active ? s.dismissExtra(s.active.id, key) : null;
        if (gone && gone.note) {
          this.dismissing.add(gone.note);
          if (this.conn) this.conn.send({ type: 'dismiss_support', note: gone.note });
        }
      },
      retry: (id) => this.retrySend(id),
      discard: (id) => {
        if (s.active) s.discard(s.active.id, id);
      },
    });
    this.composer = new Composer(s, {
      send: (body) => this.send(body),
      typing: () => {
        if (s.active && this.conn) this.conn.send({ type: 'typing', conv: s.active.id });
      },
    });
    this.members = new MembersDialog(s, {
      fetch: (id) => this.fetchMembers(id),
      openDM: (user) => this.openDM(user),
      actions: (m, conv) => this.moderation.memberActions(m, conv),
      pick: (id, m, conv) => this.moderation.memberPick(id, m, conv),
    });
    this.help = new HelpDialog();
    this.rooms = new RoomsDialog(s, {
      list: () => this.api.rooms(),
      join: (id) => this.request({ type: 'join', conv: id }),
      open: (id) => this.openConversation(id, {}),
    });
    this.video = new Video({ store: s, request: (frame) => this.request(frame), send: (frame) => Boolean(this.conn && this.conn.send(frame)) });
    this.create = new CreateRoomDialog(s, {
      create: (name, topic) => this.api.createRoom(name, topic),
      open: (id, conv) => {
        if (conv && !s.convs.has(id)) s.addConversation(conv);
        this.openConversation(id, {});
      },
    });

    s.on('convs', () => this.renderConvs());
    s.on('pins', ({ conv }) => {
      if (conv === s.active) this.live.pins.render();
    });
    s.on('messages', ({ conv, prepended, own }) => {
      if (conv === s.active) this.messages.render({ prepended, own });
    });
    s.on('history', ({ conv }) => {
      if (conv === s.active) this.messages.renderHistoryState(conv);
    });
    s.on('typing', ({ conv }) => {
      if (conv === s.active) this.renderTyping();
    });
    s.on('members', ({ conv, refresh }) => {
      const shown = this.members.isOpen && this.members.convId === conv.id;
      if (conv === s.active) this.renderHeader();
      if (shown) this.members.render();
      // Someone joined or left: ask for fresh online flags.
      if (refresh && (shown || conv === s.active)) this.fetchMembers(conv.id).catch(() => {});
    });
    s.on('incoming', ({ conv, message }) => {
      // Screen readers hear new messages of the open conversation, author
      // first; for a direct message elsewhere, who wrote.
      if (conv === s.active) announce(`${message.name}: ${message.body}`);
      else if (conv.kind === 'dm') announce(`New direct message from ${message.name}.`);
    });
    s.on('note', ({ conv, text }) => {
      if (conv === s.active) announce(`${text}.`);
    });
    s.on('marks', () => this.queueMarks());
    setInterval(() => s.expireTyping(), 1000);
    document.addEventListener('visibilitychange', () => this.updateViewing());

    this.wireChrome();
  }

  // --- start, sign-in and sign-out -------------------------------------

  async boot() {
    setupDialogs();
    const got = takeFromURL();
    this.pendingInvite = got.invite;
    window.addEventListener('hashchange', () => {
      const more = takeFromURL();
      if (more.invite && this.store.me) this.tools.acceptInvite(more.invite);
      else if (more.invite) this.pendingInvite = more.invite;
      if (more.link && !this.conn) this.signin.verify(more.link);
    });
    if (got.token) {
      // A new sign-in link starts a new session in this tab.
      if (loadToken() !== got.token) clearSession();
      this.auth.useToken(got.token);
    }
    try {
      const res = await fetch('/config.json', { cache: 'no-store', credentials: 'omit' });
      const cfg = await res.json();
      if (Number.isFinite(cfg.idle_timeout_ms) && cfg.idle_timeout_ms > 0) this.idleMs = cfg.idle_timeout_ms;
    } catch {
      // Keep the default.
    }
    this.baseIdleMs = this.idleMs;
    if (got.token) {
      this.startSession();
    } else if (got.link) {
      // An emailed link: a new session in this tab.
      clearSession();
      this.signin.verify(got.link);
    } else if (got.signinError) {
      this.signin.showError(got.signinError);
    } else {
      // The token this tab kept, or the browser session's cookie (a
      // reload, a new tab): no sign-in needed.
      const how = await this.auth.restore();
      if (how === 'token' || how === 'browser') this.startSession();
      else this.showSignin(how === 'ended' ? 'ended' : '');
    }
  }

  startBrowserSession(grant, expiry) {
    clearSession();
    this.auth.useGrant(grant, expiry);
    this.afterSignIn = { newAccount: Boolean(grant.new_account), invite: grant.invite || this.pendingInvite };
    this.pendingInvite = null;
    this.startSession();
  }

  get token() {
    return this.auth.token;
  }

  startSession() {
    this.store.reset();
    this.store.setMarks(loadMarks());
    this.restoreActive = loadActive();
    this.signin.hide();
    $('app').hidden = false;
    $('main').hidden = this.view === 'dashboard';
    this.showNoConversation();
    this.conn = new Connection({
      token: () => this.token,
      resume: () => this.store.resume(),
      onWelcome: (f) => this.welcome(f),
      onFrame: (f) => this.frame(f),
      onState: (state) => this.renderState(state),
      onAuthLost: (code) => this.auth.lost(code),
      onSignedOut: (code) => this.signOut(this.auth.reasonFor(code)),
    });
    this.conn.start();
    this.idle = new IdleTimer({
      timeoutMs: this.idleMs,
      onWarn: () => openDialog($('idle-dialog'), 'button[type="submit"]'),
      onIdle: () => this.signOut('idle'),
      // Activity here keeps the session's other tabs from signing out.
      onActivity: () => this.auth.active(Math.min(15000, this.idleMs / 4)),
    });
    this.idle.start();
  }

  // renewed: the browser session has a new access token. The open session
  // takes it (reauth); a new role or name needs a new session, and so
  // does a refused reauth.
  renewed(grant) {
    const conn = this.conn;
    const me = this.store.me;
    if (!conn || !conn.connected) return; // the next hello carries it
    if (me && (grant.user.role !== me.role || grant.user.name !== me.name)) {
      conn.reconnect();
      return;
    }
    conn.request({ type: 'reauth', token: this.token }).catch((e) => {
      if (e.code === 'invalid_field' && this.conn === conn) conn.reconnect();
    });
  }

  // rename saves the name a new account chose, and carries on with a
  // token that has it.
  async rename(name) {
    const acct = await this.api.request('PATCH', '/api/me', { name });
    $('me-name').textContent = acct.name;
    await this.auth.renew();
    announce(`Others now see you as ${acct.name}.`);
  }

  showSignin(reason, detail = '') {
    $('app').hidden = true;
    // One main landmark at a time: the sign-in screen's.
    $('main').hidden = true;
    $('signin-error').textContent = '';
    this.signin.show(reasonText(reason, this.idleMs, detail));
  }

  // signOut ends the session and leaves nothing of it behind: the token
  // and marks are removed from storage and every rendered message, name
  // and list is taken out of the page. Signing out by hand or when idle
  // ends a browser session on the server too (its refresh cookie is
  // refused from then on); the other reasons come from a session that is
  // over already. opts.detail: the server's words, for 'ended'.
  signOut(reason, opts = {}) {
    this.push.signOut(reason === 'signed_out' ? this.token : null);
    this.signin.followSignOut(this.auth.signOut(reason === 'signed_out' || reason === 'idle'), () => this.auth.endOnServer());
    if (this.conn) this.conn.stop();
    this.conn = null;
    this.dismissing.clear();
    if (this.idle) this.idle.stop();
    this.idle = null;
    clearTimeout(this.flushTimer);
    clearSession();
    history.replaceState(null, '', location.pathname);
    this.store.reset();
    closeAllDialogs();
    this.messages.clear();
    this.sidebar.clear();
    this.members.clear();
    this.rooms.clear();
    this.composer.clear();
    this.report.clear();
    this.actions.clear();
    this.audit.clear();
    this.rota.clear();
    this.tools.clear();
    this.live.clear();
    this.video.clear();
    this.pendingInvite = null;
    this.afterSignIn = null;
    this.setupAsked = false;
    this.people.clear();
    this.setup.clear();
    $('people-open').hidden = true;
    $('setup-open').hidden = true;
    $('no-conv-note').textContent = '';
    $('no-conv-error').textContent = '';
    this.alerts.stop();
    this.supervising = false;
    this.queue.reset();
    this.dashboard.clear();
    this.renderViewToggle();
    this.hideBanner();
    this.showView('chat', { save: false });
    $('view-toggle').hidden = true;
    document.body.classList.remove('supervisor');
    clearAnnouncements();
    this.hideNotice();
    this.hideFlash();
    $('typing').textContent = '';
    $('conv-title').textContent = '';
    $('conv-title').title = '';
    $('conv-sub').textContent = '';
    this.headerFor = null;
    this.showAbout(false);
    $('me-name').textContent = '';
    $('me-role').textContent = '';
    this.signin.clear();
    document.title = 'Kindred';
    this.showNoConversation();
    this.closeNav();
    this.showSignin(reason, opts.detail);
    // The welcome may have given this role a longer timeout; the next
    // person to sign in here starts from the ordinary one.
    this.idleMs = this.baseIdleMs;
  }

  // --- the connection --------------------------------------------------

  welcome(f) {
    const s = this.store;
    s.welcome(f);
    this.help.setResources(f.crisis_resources);
    for (const note of this.dismissing) if (this.conn) this.conn.send({ type: 'dismiss_support', note });
    // Supervisors and admins, who watch for pages, may get longer.
    if (Number.isFinite(f.idle_timeout_ms) && f.idle_timeout_ms > 0 && this.idle) {
      this.idleMs = f.idle_timeout_ms;
      this.idle.setTimeoutMs(this.idleMs);
    }
    $('me-name').textContent = f.user.name;
    $('me-role').textContent = roleLabel(f.user.role);
    $('create-room').hidden = !CAN_CREATE_ROOMS.has(f.user.role);
    this.setupSupervisor(f.user.role);
    this.live.loadBlocks();
    this.renderConvs();
    if (this.restoreActive && s.convs.has(this.restoreActive)) {
      const id = this.restoreActive;
      this.restoreActive = null;
      this.openConversation(id, { restore: true });
    } else if (s.activeId && !s.active) {
      this.showNoConversation();
    } else if (s.active) {
      // Back after a reconnect: what others wrote meanwhile is new.
      s.visit(s.active);
      this.renderHeader();
      this.messages.render({});
      if (s.active.historyError) this.loadOlder();
      if (this.members.isOpen) this.fetchMembers(s.active.id).catch(() => {});
    }
    this.restoreActive = null;
    this.video.welcome();
    if (this.afterSignIn) {
      this.firstWelcome(f.user, this.afterSignIn);
      this.afterSignIn = null;
    } else if (this.pendingInvite) {
      // An invite link opened this tab: join its room now.
      const code = this.pendingInvite;
      this.pendingInvite = null;
      this.tools.acceptInvite(code);
    }
    this.setupAdmin(f.user);
    // Presence of the other person in each direct message.
    for (const c of s.convs.values()) {
      if (c.kind === 'dm' || c === s.active) this.fetchMembers(c.id).catch(() => {});
    }
    this.flush();
  }

  // firstWelcome follows a sign-in made in this tab: a new account may
  // choose its name, then the invite the link was asked for with is
  // taken (one dialog at a time).
  async firstWelcome(user, after) {
    const gen = this.store.generation;
    if (after.newAccount) await this.chooseName.open(user.name);
    if (after.invite && gen === this.store.generation && this.conn) this.tools.acceptInvite(after.invite);
  }

  // setupAdmin shows an admin the people and sign-in tools, and the
  // sign-in checklist as their first screen while nothing is set up.
  setupAdmin(user) {
    const admin = user.role === 'admin';
    $('people-open').hidden = !admin;
    $('setup-open').hidden = !admin;
    if (!admin || this.setupAsked) return;
    this.setupAsked = true;
    this.signin.loadConfig().then((config) => this.setup.maybeFirstRun(config !== null));
  }

  frame(f) {
    const s = this.store;
    switch (f.type) {
      case 'message':
      case 'edit':
      case 'delete':
      case 'hide':
        // A gap should never happen; if it does, reconnect and resume.
        if (!s.applyEvent(f) && this.conn) this.conn.resync();
        break;
      case 'ack':
        s.ack(f);
        if (f.conv === s.activeId) this.tools.render();
        // A send that had to wait went through: its notice is stale.
        if (this.noticeKind === 'send' && !s.outbox.some((o) => o.error)) this.hideNotice();
        break;
      case 'synced':
        s.synced(f);
        break;
      case 'conversation':
        this.conversationNews(f.conversation);
        break;
      case 'left': {
        const was = s.convs.get(f.conv);
        const open = s.activeId === f.conv;
        s.leftConversation(f.conv);
        this.video.left(f.conv);
        if (!s.active) this.showNoConversation();
        // Not asked for here: left in another tab, or removed by a moderator.
        if (open && was && !f.ref) $('no-conv-note').textContent = `You are no longer a member of ${was.name}.`;
        break;
      }
      case 'typing':
        s.typing(f);
        break;
      case 'presence':
        s.presenceEvent(f);
        break;
      case 'member':
        s.memberEvent(f);
        break;
      case 'member_list':
        s.setMembers(f.conv, f.members || []);
        break;
      case 'support':
        // Only for this user, after a message of theirs: a private note,
        // shown on every device until dismissed, and updated as it goes.
        if (!this.dismissing.has(f.note) && s.support(f) && s.activeId === f.conv) announce(`A note just for you: ${f.text}`);
        break;
      case 'support_dismissed':
        this.dismissing.delete(f.note);
        s.supportDismissed(f.note);
        break;
      case 'escalation':
        if (s.me && SUPERVISES.has(s.me.role)) this.dashboard.onFrame(f);
        break;
      case 'rejected':
        s.rejected(f);
        break;
      case 'error':
        this.refused(f);
        break;
      default:
        // Video sessions, else moderation news; pong and unknown types do nothing.
        if (!this.video.frame(f)) this.live.frame(f);
        break;
    }
  }

  // conversationNews handles a conversation frame: joined, a new role or
  // mute, accepted guidelines, or a room's new settings. A change to what
  // this person may do in the open room is said out loud.
  conversationNews(c) {
    const s = this.store;
    const before = s.convs.get(c.id);
    const was = before ? { muted: before.mutedUntil, role: before.role, ro: before.readOnly } : null;
    const conv = s.addConversation(c);
    if (!conv) return;
    if (conv.kind === 'dm') this.fetchMembers(conv.id).catch(() => {});
    if (!was || conv !== s.active) return;
    if (conv.mutedUntil !== was.muted) {
      announce(conv.mutedUntil ? 'A moderator muted you in this group.' : 'You can post in this group again.');
    }
    if (conv.role !== was.role && conv.role) {
      announce(conv.role === 'moderator' ? 'You are now a moderator of this group.' : `Your role in this group is now ${conv.role}.`);
    }
    if (conv.readOnly !== was.ro) announce(conv.readOnly ? 'This group is now read-only.' : 'This group is open for posting again.');
    this.messages.render({});
  }

  // refused handles an error frame that no pending request took.
  refused(f) {
    const s = this.store;
    if (AUTH_CODES.has(f.code) || f.code === 'already_authenticated') return;
    if (f.id && f.conv) {
      const temporary = isTemporary(f);
      const o = s.sendRefused(f, temporary);
      if (o) {
        const text = this.tools.refusal(f);
        if (s.activeId === f.conv) this.showNotice(text, 'send');
        if (temporary) this.scheduleFlush(f.retry_after_ms || 2000);
        return;
      }
    }
    if (f.ref) return; // answered a request, whose caller shows it
    const text = describe(f, s.limits);
    if (text) this.showNotice(text);
  }

  request(frame) {
    if (!this.conn) return Promise.reject({ code: 'offline' });
    return this.conn.request(frame);
  }

  renderState(state) {
    if (!(state in STATE_TEXT)) return;
    const status = $('conn-status');
    status.dataset.state = state;
    $('conn-text').textContent = STATE_TEXT[state];
    $('retry-now').hidden = state !== 'reconnecting';
    const note = $('offline-note');
    if (state === 'offline') {
      note.textContent = 'You’re offline. Messages you write now will be sent when you’re back online.';
      note.hidden = false;
    } else if (state === 'reconnecting') {
      note.textContent = 'The connection was lost. Kindred is reconnecting; messages you write will be sent when it’s back.';
      note.hidden = false;
    } else {
      note.hidden = true;
    }
    if (state === 'connected') this.flush();
  }

  // --- sending ---------------------------------------------------------

  send(text) {
    // Blank lines around a message are never meant.
    const body = text.replace(/^\s*\n/, '').trimEnd();
    const s = this.store;
    const conv = s.active;
    if (!conv) return false;
    const max = s.limits && s.limits.max_message_bytes;
    if (max && utf8Length(body) > max) {
      this.showNotice(describe({ code: 'message_too_long' }, s.limits));
      return false;
    }
    this.hideNotice();
    s.enqueue(conv.id, newID(), body);
    this.flush();
    return true;
  }

  flush() {
    clearTimeout(this.flushTimer);
    this.flushTimer = 0;
    if (!this.conn) return;
    const wait = this.store.flush(this.conn);
    if (wait > 0) this.scheduleFlush(wait);
  }

  scheduleFlush(ms) {
    clearTimeout(this.flushTimer);
    this.flushTimer = setTimeout(() => this.flush(), ms + 50);
  }

  retrySend(id) {
    const s = this.store;
    if (!s.active) return;
    s.retry(s.active.id, id);
    this.hideNotice();
    this.flush();
  }

  async editMessage(m, body) {
    const conv = this.store.active;
    const ack = await this.request({ type: 'edit', conv: conv.id, seq: m.seq, body });
    this.store.localChange(conv.id, m.seq, { body, editedAt: Date.parse(ack.ts) || Date.now() });
  }

  async deleteMessage(m) {
    const conv = this.store.active;
    const ok = await confirmDialog('Delete this message?', 'Everyone in the conversation will see “message deleted” instead.', 'Delete message');
    if (!ok) return;
    try {
      await this.request({ type: 'delete', conv: conv.id, seq: m.seq });
      this.store.localChange(conv.id, m.seq, { deleted: true });
    } catch (e) {
      // conflict: it was deleted already (say, by an attempt whose answer
      // was lost in a reconnect). That is what was asked for.
      if (e.code === 'conflict') this.store.localChange(conv.id, m.seq, { deleted: true });
      else this.showNotice(describe(e, this.store.limits));
    }
  }

  // --- asking a supervisor to look ------------------------------------

  flagMessage(m) {
    const conv = this.store.active;
    if (!conv) return null;
    const mine = Boolean(this.store.me && m.from === this.store.me.id);
    return flagMessage(this.report, m, mine, {
      send: (reason) => this.request({ type: 'flag', conv: conv.id, seq: m.seq, reason }),
      flash: (text) => this.showFlash(text),
    });
  }

  raiseConcern(member, conv) {
    return raiseConcern(this.report, member, {
      send: (reason) => this.request({ type: 'concern', user: member.id, conv: conv ? conv.id : undefined, reason }),
      flash: (text) => this.showFlash(text),
    });
  }

  showFlash(text) {
    clearTimeout(this.flashTimer);
    $('flash').textContent = text;
    this.flashTimer = setTimeout(() => this.hideFlash(), FLASH_MS);
  }

  hideFlash() {
    clearTimeout(this.flashTimer);
    $('flash').textContent = '';
  }

  // --- the supervisor dashboard ----------------------------------------

  setupSupervisor(role) {
    const sup = SUPERVISES.has(role);
    $('view-toggle').hidden = !sup;
    document.body.classList.toggle('supervisor', sup);
    if (!sup) {
      this.showView('chat', { save: false });
      return;
    }
    if (!this.supervising) {
      this.supervising = true;
      this.alerts.start();
      this.push.start();
      const opened = takeOpenRequest(); // a Web Push notice clicked with no tab open
      if (opened || loadView() === 'dashboard') this.showView('dashboard');
      if (opened) this.dashboard.select(opened, { focus: true });
    }
    // Every (re)connection catches the queue up.
    this.dashboard.refresh();
    this.renderViewToggle();
  }

  showView(view, opts = {}) {
    const dash = view === 'dashboard';
    this.view = dash ? 'dashboard' : 'chat';
    $('dashboard').hidden = !dash;
    $('layout').hidden = dash;
    $('main').hidden = dash;
    $('view-toggle').setAttribute('aria-pressed', dash ? 'true' : 'false');
    document.body.classList.toggle('dashboard-view', dash);
    if (dash) {
      this.closeNav(false);
      this.hideBanner();
    }
    if (opts.save !== false) saveView(this.view);
    this.dashboard.shown(dash);
    this.updateViewing();
  }

  renderViewToggle() {
    const open = this.queue.openCount();
    const badge = $('view-badge');
    badge.hidden = open === 0;
    badge.textContent = open > 99 ? '99+' : String(open);
    $('view-count').textContent = open ? `, ${plural(open, 'open escalation', 'open escalations')}` : '';
  }

  showBanner(text, id) {
    this.banner.show(text, id);
  }

  hideBanner() {
    this.banner.hide();
  }

  // openFromDashboard switches to the chat with the conversation open,
  // once this tab has it (the server sends a conversation frame when a
  // supervisor joins a room).
  async openFromDashboard(id, conv) {
    const s = this.store;
    const gen = s.generation;
    if (conv && !s.convs.has(id)) s.addConversation(conv);
    for (let i = 0; i < 50 && !s.convs.has(id); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      if (gen !== s.generation) return;
    }
    if (!s.convs.has(id)) {
      this.showNotice('The conversation couldn’t be opened. Please try again.');
      return;
    }
    this.showView('chat');
    this.openConversation(id, { fromList: false });
  }

  // --- conversations ---------------------------------------------------

  openConversation(id, opts = {}) {
    const s = this.store;
    const conv = s.convs.get(id);
    if (!conv) return;
    s.setActive(id);
    saveActive(id);
    $('no-conv').hidden = true;
    $('no-conv-error').textContent = '';
    $('no-conv-note').textContent = '';
    $('conv').hidden = false;
    if (id !== this.headerFor) this.showAbout(false);
    this.headerFor = id;
    this.hideNotice();
    this.renderHeader();
    this.composer.setConversation(conv);
    this.tools.render();
    this.messages.show(conv);
    this.renderTyping();
    this.updateViewing();
    this.renderConvs();
    if (!conv.atStart && conv.order.length < 30) this.loadOlder();
    if (!conv.memberList || conv.memberListStale) this.fetchMembers(id).catch(() => {});
    this.closeNav();
    if (!opts.restore) {
      if (narrow.matches || opts.fromList === false) {
        $('conv-title').setAttribute('tabindex', '-1');
        $('conv-title').focus();
      } else {
        $('composer-input').focus();
      }
    }
    this.live.opened(conv);
    this.video.render();
    // Guidelines waiting to be accepted come up once, over the room.
    this.tools.opened(conv);
  }

  // showAbout unfolds the topic and the whole name (phones only: on wider
  // screens they are always shown and the button is not).
  showAbout(open) {
    $('conv-header').classList.toggle('about-open', open);
    $('conv-about').setAttribute('aria-expanded', open ? 'true' : 'false');
  }

  showNoConversation() {
    $('conv').hidden = true;
    $('no-conv').hidden = false;
    this.messages.clear();
    saveActive(null);
  }

  loadOlder() {
    const conv = this.store.active;
    if (conv) this.store.loadOlder(this.api, conv.id);
  }

  async fetchMembers(id) {
    if (this.conn && this.conn.connected) {
      try {
        await this.conn.request({ type: 'members', conv: id });
        return;
      } catch (e) {
        if (e.code !== 'offline' && e.code !== 'timeout') throw e;
      }
    }
    const gen = this.store.generation;
    const members = await this.api.members(id);
    if (gen === this.store.generation) this.store.setMembers(id, members);
  }

  async openDM(user) {
    const reply = await this.request({ type: 'open_dm', user });
    const c = reply.conversation;
    if (!this.store.convs.has(c.id)) this.store.addConversation(c);
    const conv = this.store.convs.get(c.id);
    if (!conv.name) {
      const m = this.store.active && this.store.active.memberList && this.store.active.memberList.get(user);
      if (m) conv.name = m.name;
    }
    closeDialog($('members-dialog'));
    this.openConversation(c.id, {});
  }

  async leave() {
    const conv = this.store.active;
    if (!conv || conv.kind !== 'room') return;
    closeDialog($('members-dialog'));
    const ok = await confirmDialog(`Leave ${conv.name}?`, 'You can join again later from “Browse groups”.', 'Leave group');
    if (!ok) return;
    try {
      await this.request({ type: 'leave', conv: conv.id });
      this.store.leftConversation(conv.id);
      this.showNoConversation();
      if (narrow.matches) $('nav-toggle').focus();
      else $('browse-rooms').focus();
    } catch (e) {
      this.showNotice(describe(e, this.store.limits));
    }
  }

  // --- rendering -------------------------------------------------------

  renderConvs() {
    const s = this.store;
    this.sidebar.render();
    const total = s.totalUnread();
    const badge = $('nav-unread');
    badge.hidden = total === 0;
    badge.textContent = total > 99 ? '99+' : String(total);
    $('nav-toggle').setAttribute('aria-label', total ? `Chats, ${plural(total, 'unread message', 'unread messages')}` : 'Chats');
    this.renderTitle();
    if (s.active) this.renderHeader();
  }

  // renderTitle: the tab's title says there is a crisis alert while this
  // supervisor is being paged (never what or who), else the unread count.
  renderTitle() {
    const total = this.store.totalUnread();
    if (this.dashboard.paging.size > 0) document.title = 'Crisis alert · Kindred';
    else document.title = total ? `(${total}) Kindred` : 'Kindred';
  }

  renderHeader() {
    const s = this.store;
    const conv = s.active;
    if (!conv) return;
    $('conv-title').textContent = conv.name;
    // Cut short on a phone: the whole name in a tooltip, and under "About".
    $('conv-title').title = conv.name;
    $('leave-room').hidden = conv.kind !== 'room';
    $('members-open').textContent = conv.kind === 'dm' ? 'Details' : 'Members';
    $('members-open').setAttribute('aria-haspopup', 'dialog');
    let sub = '';
    if (conv.kind === 'dm') {
      const p = s.dmPartner(conv);
      sub = p ? `Direct message · ${s.presence.get(p.id) ?? p.online ? 'Online' : 'Offline'}` : 'Direct message';
    } else {
      const parts = [];
      if (conv.topic) parts.push(conv.topic);
      let count = plural(conv.memberCount, 'member', 'members');
      if (conv.memberList) count += `, ${[...conv.memberList.values()].filter((m) => m.online).length} online`;
      parts.push(count);
      sub = parts.join(' · ');
    }
    $('conv-sub').textContent = sub;
    this.tools.render();
  }

  renderTyping() {
    const conv = this.store.active;
    const names = conv ? this.store.typingNames(conv) : [];
    let text = '';
    if (names.length === 1) text = `${names[0]} is typing…`;
    else if (names.length === 2) text = `${names[0]} and ${names[1]} are typing…`;
    else if (names.length > 2) text = 'Several people are typing…';
    $('typing').textContent = text;
  }

  showNotice(text, kind = '') {
    this.noticeKind = kind;
    $('notice-text').textContent = text;
    $('notice').hidden = false;
  }

  hideNotice() {
    this.noticeKind = '';
    $('notice').hidden = true;
    $('notice-text').textContent = '';
  }

  updateViewing() {
    this.store.setViewing(document.visibilityState === 'visible' && !$('conv').hidden && this.view === 'chat');
  }

  queueMarks() {
    if (this.marksQueued) return;
    this.marksQueued = true;
    queueMicrotask(() => {
      this.marksQueued = false;
      if (this.token && this.store.me) saveMarks(this.store.marksSnapshot());
    });
  }

  // --- page chrome -----------------------------------------------------

  wireChrome() {
    $('signout').addEventListener('click', () => this.signOut('signed_out'));
    $('audit-open').addEventListener('click', () => this.audit.open());
    $('people-open').addEventListener('click', () => this.people.open());
    $('setup-open').addEventListener('click', () => this.setup.open());
    $('retry-now').addEventListener('click', () => {
      if (this.conn) this.conn.retryNow();
    });
    $('browse-rooms').addEventListener('click', () => this.rooms.open());
    $('create-room').addEventListener('click', () => this.create.open());
    $('members-open').addEventListener('click', () => {
      if (this.store.active) this.members.open(this.store.active);
    });
    $('conv-about').addEventListener('click', () => {
      this.showAbout($('conv-about').getAttribute('aria-expanded') !== 'true');
    });
    $('leave-room').addEventListener('click', () => this.leave());
    $('notice-close').addEventListener('click', () => {
      this.hideNotice();
      $('composer-input').focus();
    });
    $('idle-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      closeDialog($('idle-dialog'));
    });
    $('idle-dialog').addEventListener('close', () => {
      if (this.idle) this.idle.extend();
    });
    $('idle-signout').addEventListener('click', () => this.signOut('signed_out'));
    $('view-toggle').addEventListener('click', () => this.showView(this.view === 'dashboard' ? 'chat' : 'dashboard'));

    // The room list collapses behind a button on narrow screens.
    $('nav-toggle').addEventListener('click', () => {
      if ($('sidebar').classList.contains('open')) this.closeNav(true);
      else this.openNav();
    });
    $('scrim').addEventListener('click', () => this.closeNav(true));
    $('nav-close').addEventListener('click', () => this.closeNav(true));
    document.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape' && $('sidebar').classList.contains('open') && !document.querySelector('dialog[open]')) {
        ev.preventDefault();
        this.closeNav(true);
      }
    });
    narrow.addEventListener('change', () => this.closeNav(false));

    // The skip link goes to the message box, or to the list when no
    // conversation is open.
    document.querySelector('.skip-link').addEventListener('click', (ev) => {
      ev.preventDefault();
      if (this.view === 'dashboard') $('dash-title').focus();
      else if (!$('conv').hidden) $('composer-input').focus();
      else if (narrow.matches) this.openNav();
      else $('browse-rooms').focus();
    });
  }

  openNav() {
    $('sidebar').classList.add('open');
    $('scrim').hidden = false;
    // The list is modal while it covers the page.
    $('main').inert = true;
    document.querySelector('.topbar').inert = true;
    $('nav-toggle').setAttribute('aria-expanded', 'true');
    ($('sidebar').querySelector('.conv-item[aria-current="true"]') || $('browse-rooms')).focus();
  }

  closeNav(returnFocus) {
    const wasOpen = $('sidebar').classList.contains('open');
    $('sidebar').classList.remove('open');
    $('scrim').hidden = true;
    $('main').inert = false;
    document.querySelector('.topbar').inert = false;
    $('nav-toggle').setAttribute('aria-expanded', 'false');
    if (wasOpen && returnFocus) $('nav-toggle').focus();
  }
}

new App().boot();
