// The HTTP API (docs/protocol.md): the token goes in an Authorization
// header, never in a URL.

export class ApiError extends Error {
  constructor(e, status) {
    super(e.code);
    this.code = e.code;
    this.detail = e;
    this.status = status;
  }
}

// fetchJSON sends a request as every call of this client does (never
// cached, no referrer) and reads the JSON answer, if any: {res, data}.
// A request that never got an answer is an ApiError offline or
// unavailable.
export async function fetchJSON(method, path, body, headers, credentials) {
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      credentials,
      referrerPolicy: 'no-referrer',
    });
  } catch {
    throw new ApiError({ code: navigator.onLine ? 'unavailable' : 'offline' }, 0);
  }
  let data = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  return { res, data };
}

export class Api {
  // renew (optional) gets a new token when the API says the one sent
  // expired, resolving to whether it did; the request is then sent once
  // more.
  constructor(getToken, renew = null) {
    this.getToken = getToken;
    this.renew = renew;
    // clockOffset is how far the server's clock is ahead of this
    // device's, from the Date header (whole seconds, so only a skew of
    // more than two seconds counts). Countdowns to server deadlines use it.
    this.clockOffset = 0;
  }

  now() {
    return Date.now() + this.clockOffset;
  }

  async request(method, path, body) {
    try {
      return await this.send(method, path, body);
    } catch (e) {
      if (!(e instanceof ApiError) || e.status !== 401 || e.code !== 'token_expired' || !this.renew) throw e;
      if (!await this.renew()) throw e;
      return this.send(method, path, body);
    }
  }

  async send(method, path, body) {
    const headers = { Authorization: `Bearer ${this.getToken()}` };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const { res, data } = await fetchJSON(method, path, body, headers, 'omit');
    const date = Date.parse(res.headers.get('Date') || '');
    if (!Number.isNaN(date)) {
      const off = date + 500 - Date.now();
      this.clockOffset = Math.abs(off) > 2000 ? off : 0;
    }
    if (!res.ok) {
      const e = (data && data.error) || { code: res.status === 401 ? 'auth_required' : 'internal' };
      throw new ApiError(e, res.status);
    }
    return data;
  }

  rooms() {
    return this.request('GET', '/api/rooms').then((d) => d.rooms || []);
  }

  createRoom(name, topic) {
    return this.request('POST', '/api/rooms', { name, topic });
  }

  members(conv) {
    return this.request('GET', `/api/conversations/${encodeURIComponent(conv)}/members`).then((d) => d.members || []);
  }

  // history returns up to limit messages with seq < before (newest first
  // page when before is 0), ascending.
  history(conv, before, limit) {
    const q = new URLSearchParams({ limit: String(limit) });
    if (before > 0) q.set('before', String(before));
    return this.request('GET', `/api/conversations/${encodeURIComponent(conv)}/messages?${q}`).then((d) => d.messages || []);
  }

  // --- escalations (supervisors and admins) -----------------------------

  escalations(statuses) {
    const q = new URLSearchParams({ status: statuses.join(',') });
    return this.request('GET', `/api/escalations?${q}`).then((d) => d.escalations || []);
  }

  escalation(id) {
    return this.request('GET', `/api/escalations/${encodeURIComponent(id)}`);
  }

  // escalationAction posts one of ack, notes, handoff, resolve, join or
  // dm; each answers with the updated escalation (dm: {conversation}).
  escalationAction(id, action, body) {
    return this.request('POST', `/api/escalations/${encodeURIComponent(id)}/${action}`, body === undefined ? {} : body);
  }
}
