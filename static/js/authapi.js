// Kindred's own sign-in routes (docs/protocol.md#signing-in), all under
// /auth/. Every POST carries X-Kindred-CSRF: 1, which a form on another
// site cannot send. The refresh cookie is HttpOnly: no script here ever
// sees it; it travels with same-origin requests to /auth/ only.

import { ApiError, fetchJSON } from './api.js';

const MIN_LIFE_MS = 5000;

async function call(method, path, body) {
  const headers = method === 'POST' ? { 'Content-Type': 'application/json', 'X-Kindred-CSRF': '1' } : {};
  const { res, data } = await fetchJSON(method, path, body, headers, 'same-origin');
  if (!res.ok) {
    const fallback = { 401: 'auth_required', 404: 'not_found', 429: 'rate_limited' }[res.status] || (res.status >= 500 ? 'unavailable' : 'internal');
    throw new ApiError((data && data.error) || { code: fallback }, res.status);
  }
  return { data, date: Date.parse(res.headers.get('Date') || '') };
}

// expiryOf turns a grant's expires_at into this device's clock: how long
// the token lives is measured against the server's Date header, so a
// device whose clock is off still renews in time.
function expiryOf(grant, serverNow) {
  const now = Date.now();
  const end = Date.parse(grant.expires_at);
  let life = end - (Number.isNaN(serverNow) ? now : serverNow);
  if (!Number.isFinite(life) || life < MIN_LIFE_MS) life = MIN_LIFE_MS;
  return { at: now + life, life };
}

function withExpiry({ data, date }) {
  if (!data || typeof data.access_token !== 'string' || !data.user) throw new ApiError({ code: 'internal' }, 200);
  return { grant: data, expiry: expiryOf(data, date) };
}

// authConfig says which ways in the sign-in page offers ({email, oidc,
// oidc_name, signup}), or null when this server has no sign-in of its
// own (tokens come from another system).
export async function authConfig() {
  try {
    return (await call('GET', '/auth/config')).data;
  } catch (e) {
    if (e.status === 404) return null;
    throw e;
  }
}

// requestLink asks for an emailed sign-in link; the answer is the same
// whether or not the address is known ({accepted, message}).
export async function requestLink(email, invite) {
  const body = { email };
  if (invite) body.invite = invite;
  return (await call('POST', '/auth/email', body)).data;
}

// verifyLink exchanges an emailed link's secret for a browser session:
// {grant, expiry}; the grant may carry the invite the link was asked
// for with, and new_account.
export async function verifyLink(link) {
  return withExpiry(await call('POST', '/auth/email/verify', { link }));
}

// refreshGrant rotates the refresh cookie for a new access token:
// {grant, expiry}. A 401 (auth_required) means not signed in.
export async function refreshGrant() {
  return withExpiry(await call('POST', '/auth/refresh'));
}

// signOutServer ends the browser session on the server: its refresh
// cookie is refused from now on, on every node.
export async function signOutServer() {
  await call('POST', '/auth/signout');
}

// sessionOver: a refusal that means the browser session has ended (as
// opposed to the network or the server failing for a moment).
export function sessionOver(e) {
  return Boolean(e && (e.status === 401 || e.status === 403 || e.status === 404));
}
