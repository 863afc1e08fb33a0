// HTTP API client: thin fetch wrappers for /api/* that turn the documented
// error body {"error":{"code","message"}} (or {"error":"code"}) into a
// thrown ApiError.

/** An API failure. `status` is 0 when the server could not be reached. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

const OFFLINE_MESSAGE = "Can't reach the server. Check your connection and try again.";

async function request(method, path, body) {
  const init = { method, credentials: 'same-origin', cache: 'no-store', headers: {} };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError(0, 'network', OFFLINE_MESSAGE);
  }
  let data = null;
  try {
    const text = await res.text();
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    let err = data && typeof data === 'object' ? data.error : null;
    if (typeof err === 'string') err = { code: err, message: data.message };
    const code = err && typeof err.code === 'string' ? err.code : `http_${res.status}`;
    const message = err && typeof err.message === 'string' && err.message
      ? err.message
      : `The server answered ${res.status}${res.statusText ? ` ${res.statusText}` : ''}.`;
    throw new ApiError(res.status, code, message);
  }
  return data;
}

export const register = (username, password) =>
  request('POST', '/api/register', { username, password });

/** Logs in; with `endOthers`, every other session of the account ends. */
export const login = (username, password, endOthers = false) =>
  request('POST', '/api/login', endOthers
    ? { username, password, end_other_sessions: true }
    : { username, password });

/** Ends this session, or with `everywhere` every session of the account. */
export const logout = (everywhere = false) =>
  request('POST', '/api/logout', everywhere ? { everywhere: true } : {});

export const me = () => request('GET', '/api/me');

/** Every channel: the list comes in pages, each naming the next (`after`). */
export async function channels() {
  const all = [];
  let after = null;
  for (;;) {
    const path = after ? `/api/channels?after=${encodeURIComponent(after)}` : '/api/channels';
    const data = await request('GET', path);
    if (data && Array.isArray(data.channels)) all.push(...data.channels);
    const next = data && typeof data.next === 'string' ? data.next : null;
    if (!next || next === after) return all;
    after = next;
  }
}

/** Creates a channel; a private one is seen by its members only. */
export const createChannel = (name, { isPrivate = false } = {}) =>
  request('POST', '/api/channels', isPrivate ? { name, private: true } : { name });

/** The one direct conversation with `user` (opened now, or the existing one). */
export const openDm = (user) => request('POST', '/api/dms', { user });

/** Usernames starting with `prefix` (any case), not ours. */
export async function users(prefix, limit = 8) {
  const params = new URLSearchParams({ prefix, limit: String(limit) });
  const data = await request('GET', `/api/users?${params}`);
  return Array.isArray(data && data.users) ? data.users.filter((u) => typeof u === 'string') : [];
}

const membersPath = (channel) => `/api/channels/${encodeURIComponent(channel)}/members`;

const ROLES = ['owner', 'moderator', 'member'];

/**
 * A page of a channel's people, by lower-case name: everyone with a role
 * there (in a private channel or DM, every member) and everyone present
 * now. Resolves with {members: [{user, role, online}], next (the `after` of
 * the next page, or null), online (how many are present)}.
 */
export async function membersPage(channel, { after = null, limit } = {}) {
  const params = new URLSearchParams();
  if (after) params.set('after', after);
  if (limit) params.set('limit', String(limit));
  const query = params.toString();
  const data = await request('GET', query ? `${membersPath(channel)}?${query}` : membersPath(channel));
  const list = data && Array.isArray(data.members) ? data.members : [];
  return {
    members: list.filter((m) => m && typeof m.user === 'string' && m.user).map((m) => ({
      user: m.user,
      role: ROLES.includes(m.role) ? m.role : 'member',
      online: m.online === true,
    })),
    next: data && typeof data.next === 'string' && data.next ? data.next : null,
    online: data && Number.isInteger(data.online) ? data.online : null,
  };
}

/** Invites `user` into a private channel, or gives them `role` (member or moderator). */
export const addMember = (channel, user, role) =>
  request('POST', membersPath(channel), role ? { user, role } : { user });

/** Removes `user` from a private channel, or bans them from a public one. */
export const removeMember = (channel, user) =>
  request('DELETE', `${membersPath(channel)}/${encodeURIComponent(user)}`);

/** Who is banned from a public channel ([{user, by, at}]); owner and moderators only. */
export async function bans(channel) {
  const data = await request('GET', `/api/channels/${encodeURIComponent(channel)}/bans`);
  return Array.isArray(data && data.bans) ? data.bans.filter((b) => b && typeof b.user === 'string') : [];
}

/** Lifts the ban of `user` from a public channel. */
export const liftBan = (channel, user) =>
  request('DELETE', `/api/channels/${encodeURIComponent(channel)}/bans/${encodeURIComponent(user)}`);

/** One message of a channel (e.g. the original a reply quotes). */
export async function message(channel, id) {
  const path = `/api/channels/${encodeURIComponent(channel)}/messages/${encodeURIComponent(id)}`;
  const data = await request('GET', path);
  return data && data.message;
}

/** Messages holding every word of `q`, newest first (a page before `before`). */
export async function search(q, { before } = {}) {
  const params = new URLSearchParams({ q });
  if (before) params.set('before', before);
  const data = await request('GET', `/api/search?${params}`);
  return Array.isArray(data && data.messages) ? data.messages : [];
}

/** Older messages of a channel, oldest first. */
export async function messages(channel, { before, limit = 50 } = {}) {
  const params = new URLSearchParams();
  if (before) params.set('before', before);
  params.set('limit', String(limit));
  const path = `/api/channels/${encodeURIComponent(channel)}/messages?${params}`;
  const data = await request('GET', path);
  return Array.isArray(data && data.messages) ? data.messages : [];
}

/** The emoji people may react with. */
export async function emoji() {
  const data = await request('GET', '/api/emoji');
  return Array.isArray(data && data.emoji) ? data.emoji.filter((e) => typeof e === 'string') : [];
}

/** The quote card of a stock code (e.g. `aapl.us`). */
export const quote = (code) => request('GET', `/api/quotes/${encodeURIComponent(code)}`);

/** A channel's watchlist: {codes, quotes} (a quote card for each code that has one now). */
export async function watchlist(channel) {
  const data = await request('GET', `/api/channels/${encodeURIComponent(channel)}/watchlist`);
  return {
    codes: Array.isArray(data && data.codes) ? data.codes.filter((c) => typeof c === 'string') : [],
    quotes: Array.isArray(data && data.quotes) ? data.quotes.filter((q) => q && typeof q === 'object') : [],
  };
}
