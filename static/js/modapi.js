// The moderation routes of the HTTP API (docs/protocol.md, "Room settings
// and moderation API", and docs/moderation.md), on top of Api.request.

const enc = encodeURIComponent;
const room = (id) => `/api/rooms/${enc(id)}`;
const member = (conv, user) => `${room(conv)}/members/${enc(user)}`;

export class ModApi {
  constructor(api) {
    this.api = api;
  }

  req(method, path, body) {
    return this.api.request(method, path, body);
  }

  // --- members -----------------------------------------------------------

  setRole(conv, user, role, reason) {
    return this.req('PUT', `${member(conv, user)}/role`, { role, reason });
  }

  // minutes 0: until lifted.
  mute(conv, user, minutes, reason) {
    return this.req('POST', `${member(conv, user)}/mute`, { minutes, reason });
  }

  unmute(conv, user, reason) {
    return this.req('DELETE', `${member(conv, user)}/mute`, { reason });
  }

  remove(conv, user, reason) {
    return this.req('DELETE', member(conv, user), { reason });
  }

  ban(conv, user, minutes, reason) {
    return this.req('POST', `${room(conv)}/bans`, { user, minutes, reason });
  }

  unban(conv, user, reason) {
    return this.req('DELETE', `${room(conv)}/bans/${enc(user)}`, { reason });
  }

  // bans lists the bans in force, newest first.
  bans(conv) {
    return this.req('GET', `${room(conv)}/bans`).then((d) => d.bans || []);
  }

  // --- the room ----------------------------------------------------------

  settings(conv, changes) {
    return this.req('PATCH', room(conv), changes);
  }

  acceptGuidelines(conv, version) {
    return this.req('POST', `${room(conv)}/guidelines/accept`, version ? { version } : {});
  }

  invites(conv) {
    return this.req('GET', `${room(conv)}/invites`).then((d) => d.invites || []);
  }

  createInvite(conv, minutes, maxUses) {
    return this.req('POST', `${room(conv)}/invites`, { expires_in_minutes: minutes, max_uses: maxUses });
  }

  revokeInvite(conv, invite) {
    return this.req('DELETE', `${room(conv)}/invites/${enc(invite)}`);
  }

  acceptInvite(code) {
    return this.req('POST', `/api/invites/${enc(code)}/accept`);
  }

  // --- messages: hide and pins --------------------------------------------

  hide(conv, seq, reason) {
    return this.req('POST', `${room(conv)}/messages/${seq}/hide`, { reason });
  }

  pins(conv) {
    return this.req('GET', `${room(conv)}/pins`).then((d) => d.pins || []);
  }

  pin(conv, seq) {
    return this.req('PUT', `${room(conv)}/pins/${seq}`);
  }

  unpin(conv, seq) {
    return this.req('DELETE', `${room(conv)}/pins/${seq}`);
  }

  // --- pre-moderation and reports -----------------------------------------

  pending(conv) {
    return this.req('GET', `${room(conv)}/pending`).then((d) => d.pending || []);
  }

  approve(conv, pid) {
    return this.req('POST', `${room(conv)}/pending/${enc(pid)}/approve`, {});
  }

  reject(conv, pid, reason) {
    return this.req('POST', `${room(conv)}/pending/${enc(pid)}/reject`, { reason });
  }

  reports(conv, status) {
    return this.req('GET', `${room(conv)}/reports?status=${enc(status)}`).then((d) => d.reports || []);
  }

  resolveReport(id, outcome, note) {
    return this.req('POST', `/api/reports/${enc(id)}/resolve`, { outcome, note });
  }

  // --- blocks ------------------------------------------------------------

  blocks() {
    return this.req('GET', '/api/blocks').then((d) => d.blocks || []);
  }

  block(user) {
    return this.req('PUT', `/api/blocks/${enc(user)}`);
  }

  unblock(user) {
    return this.req('DELETE', `/api/blocks/${enc(user)}`);
  }

  // --- supervisors -------------------------------------------------------

  // audit reads one page: q {room, actor, since, until, before, limit}.
  audit(q) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(q)) if (v) params.set(k, String(v));
    return this.req('GET', `/api/audit?${params}`);
  }
}
