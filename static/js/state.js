// The one store of the UI. Mutations go through the functions below and
// those of its parts: pending.js (sends not answered yet), amend.js (edits,
// deletions and reactions) and reads.js (how far each channel is read).
// Each marks what changed, and subscribers are told once per microtask with
// the set of changed topics.

// The server passes on one typing event per user per 3 s; sent every 2 s
// (composer.js), they arrive every 4 s, so a notice lasts a little longer.
export const TYPING_TTL_MS = 5000;
export const PAGE_SIZE = 50;
/** The most messages a `since` join returns; a full one has more after it. */
export const CATCH_UP = 1000;

export const state = {
  me: null,
  channels: [], // [{name, created_at, kind, role, peer, closed}] sorted by name (rooms.js reads them)
  active: null,
  joined: new Set(), // channels this tab has opened and stays subscribed to
  chans: new Map(), // name -> per-channel data, see channel()
  connection: { status: 'idle', retryAt: 0, everOpen: false },
  emoji: [], // the reactions people may give (GET /api/emoji); none when unknown
  // Whether the channel list said how far we had read each channel: until
  // then nothing is marked read (it would hide what the list has to say).
  readsKnown: false,
  // How many names the server tells at once (its --joined-members): learned
  // from a `joined` or `presence` frame that it had to cut; null until then.
  namesAtOnce: null,
  notices: [], // operators' notices not dismissed: [{id, text, channel, at}] (operators.js)
};

const listeners = new Set();
let dirty = new Set();
let scheduled = false;

export function subscribe(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** Marks topics as changed; for the store's parts (pending.js, amend.js, reads.js). */
export function changed(...topics) {
  topics.forEach((t) => dirty.add(t));
  if (scheduled) return;
  scheduled = true;
  queueMicrotask(() => {
    scheduled = false;
    const topicsNow = dirty;
    dirty = new Set();
    listeners.forEach((fn) => fn(topicsNow));
  });
}

const byId = (a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
/** Whether two names are one user's (names are case-insensitive). */
export const sameUser = (a, b) => typeof a === 'string' && typeof b === 'string'
  && a.toLowerCase() === b.toLowerCase();

export const isMe = (user) => sameUser(user, state.me);

/** Whether message `m` mentions us (its `mentions` lists our name, lower case). */
export const mentionsMe = (m) => !!state.me && Array.isArray(m.mentions)
  && m.mentions.includes(state.me.toLowerCase());

export function isMessage(m) {
  return !!m && typeof m.id === 'string' && typeof m.channel === 'string'
    && typeof m.user === 'string' && typeof m.text === 'string' && typeof m.ts === 'string';
}

/** The message with this id in a list sorted by id, or null. */
function findById(list, id) {
  let lo = 0;
  let hi = list.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid].id === id) return list[mid];
    if (list[mid].id < id) lo = mid + 1;
    else hi = mid - 1;
  }
  return null;
}

/** A loaded message of channel `name`, or null. */
export function findMessage(name, id) {
  const c = state.chans.get(name);
  return c ? findById(c.messages, id) : null;
}

/** Whether `m` is ours to edit and delete: our own, not the bot's, not a notice, not deleted. */
export const isOwn = (m) => !!m && isMe(m.user) && !m.bot && !m.kind && !m.deleted;

/** The newest message of `name` that is ours to edit, or null. */
export function lastOwn(name) {
  const list = channel(name).messages;
  for (let i = list.length - 1; i >= 0; i -= 1) if (isOwn(list[i])) return list[i];
  return null;
}

/** When message `m` was last edited (epoch ms), 0 if never. */
export const editedAt = (m) => (m.edited_at ? Date.parse(m.edited_at) || 0 : 0);

/**
 * Of two copies of one message (one kept, one arriving), the current one:
 * a deletion is final and a later edit wins, as on the server, so a page of
 * history read before a change does not undo it.
 */
function current(kept, arriving) {
  if (kept.deleted || arriving.deleted) return kept.deleted ? kept : arriving;
  return editedAt(kept) > editedAt(arriving) ? kept : arriving;
}

/** Originals quoted by replies but not loaded in their channel: id -> message, or null when gone. */
const originals = new Map();

/**
 * The message a reply quotes: loaded in the channel, or fetched before;
 * undefined when not known yet (the caller fetches it), null when gone.
 */
export function original(name, id) {
  const loaded = findById(channel(name).messages, id);
  if (loaded) return loaded;
  return originals.has(id) ? originals.get(id) : undefined;
}

/** The copies the store keeps of message `id`: loaded in `name`, and as a reply's quote. */
export function copiesOf(name, id) {
  return [findMessage(name, id), originals.get(id)].filter(Boolean);
}

/** Remembers a quoted original fetched on its own (null: there is none). */
export function rememberOriginal(id, message) {
  originals.set(id, isMessage(message) ? message : null);
  changed('messages');
}

/** Per-channel data, created on first use. */
export function channel(name) {
  let c = state.chans.get(name);
  if (!c) {
    c = {
      messages: [], // sorted by id, unique ids
      // Names of people present that the server told us (the first ones of
      // a `joined` frame and who came since), lower case -> as written: in a
      // big channel only some of those present. memberCount is how many are.
      members: new Map(),
      memberCount: null, // null until a `joined` frame says
      // A presence batch said more came and went than it named: the names
      // held are not the whole story (the members panel reads them again).
      membersStale: false,
      unread: 0, // messages from others not seen yet
      mentions: 0, // of those, the ones that mention us
      // The newest id we know to be read here: from the channel list, a
      // `read` of ours or one from another of our connections.
      lastRead: null,
      // While the channel is open, where the "New messages" line goes: above
      // the first message from others after `after`, or (no `after`) above
      // the `count`-th newest of them; null when there is none.
      divider: null,
      typing: new Map(), // user -> expiry (epoch ms)
      pending: [], // [{ref, text, ts, failed, error}]
      loadingOlder: false,
      historyDone: false,
      loaded: false, // a `joined` frame has arrived at least once
      newConversation: false, // a DM someone opened with us just now: its first history is unread
      joinSince: null, // `since` of the join in flight
      inRoom: false, // joined on the current connection: sends may go now
      // The newest id the server sent (in a message or a join's history; not
      // our own acks): servers send in the order messages were stored, so
      // everything stored before it has arrived, and a rejoin resumes there.
      cursor: null,
      // While a rejoin reads on page after page, the newest id that arrived
      // live meanwhile: the cursor moves to each full page's newest, and
      // there only once every page is in.
      paging: null,
    };
    state.chans.set(name, c);
  }
  return c;
}

/** Merges messages into a channel; returns the ones that were new. */
export function merge(c, list) {
  const added = [];
  const valid = list.filter(isMessage);
  if (valid.length === 1 && (!c.messages.length || c.messages[c.messages.length - 1].id < valid[0].id)) {
    c.messages.push(valid[0]);
    return valid;
  }
  const map = new Map(c.messages.map((m) => [m.id, m]));
  for (const m of valid) {
    const kept = map.get(m.id);
    if (!kept) added.push(m);
    map.set(m.id, kept ? current(kept, m) : m);
  }
  c.messages = [...map.values()].sort(byId);
  return added;
}

export function reset(me) {
  state.me = me;
  state.channels = [];
  state.active = null;
  state.joined = new Set();
  state.chans = new Map();
  state.connection = { status: 'idle', retryAt: 0, everOpen: false };
  state.emoji = [];
  state.readsKnown = false;
  state.namesAtOnce = null;
  state.notices = [];
  changed('notices', 'me', 'channels', 'active', 'messages', 'members', 'unread', 'typing', 'connection');
}

export function setChannels(list) {
  const map = new Map(state.channels.map((ch) => [ch.name, ch]));
  // An entry adds to what is known of its channel: a `channel_created`
  // frame (name and time only) keeps the kind and role the list gave.
  list.filter((ch) => ch && typeof ch.name === 'string')
    .forEach((ch) => map.set(ch.name, { ...map.get(ch.name), ...ch }));
  state.channels = [...map.values()].sort((a, b) => a.name.localeCompare(b.name));
  changed('channels');
}

export const addChannel = (ch) => setChannels([ch]);

/**
 * Opens channel `name` (again): what was unread there is seen now, below
 * the "New messages" line; the channel left loses its line.
 */
export function setActive(name) {
  const left = state.active;
  if (left && left !== name) channel(left).divider = null;
  state.active = name;
  const c = channel(name);
  if (left !== name) c.divider = null;
  seen(c);
  if (!state.channels.some((ch) => ch.name === name)) setChannels([{ name, created_at: '' }]);
  changed('active', 'unread', 'messages', 'members', 'typing');
}

/** What was unread in `c` is seen: the "New messages" line goes above it. */
function seen(c) {
  if (!c.unread && !c.mentions) return;
  if (!c.divider) c.divider = c.lastRead ? { after: c.lastRead } : { count: c.unread };
  c.unread = 0;
  c.mentions = 0;
  changed('unread', 'messages');
}

/** What is unread in the open channel `name` is seen now (e.g. the tab became visible). */
export function markSeen(name) {
  seen(channel(name));
}

/** No "New messages" line in `name` from now on (e.g. we wrote there). */
export function clearDivider(name) {
  const c = channel(name);
  if (!c.divider) return;
  c.divider = null;
  changed('messages');
}

/** Counts messages from others that arrived unseen: unread, and those that mention us. */
function unseen(c, list) {
  const theirs = list.filter((m) => !isMe(m.user) && !(c.lastRead && m.id <= c.lastRead));
  if (!theirs.length) return;
  c.unread += theirs.length;
  c.mentions += theirs.filter(mentionsMe).length;
  changed('unread');
}

/**
 * Records that this tab is (re)joining a channel with the given `since`; a
 * new connection's join (`fresh`) forgets any unfinished reading on.
 */
export function markJoining(name, since, fresh = true) {
  state.joined.add(name);
  const c = channel(name);
  c.joinSince = since || null;
  if (fresh) {
    c.paging = null;
    c.inRoom = false;
  }
}

/** Where a rejoin of `name` resumes: the `since` to send. */
export function lastId(name) {
  return channel(name).cursor;
}

/** Moves the channel's cursor past messages the server sent. */
function advance(c, list) {
  for (const m of list) if (!c.cursor || m.id > c.cursor) c.cursor = m.id;
}

/** Keeps `n` as the number of names the server tells at once. */
function learnNamesAtOnce(n) {
  if (Number.isInteger(n) && n > 0) state.namesAtOnce = n;
}

/**
 * Applies a `joined` frame: its history, the first names of those present
 * and (`memberCount`) how many they are. Returns the `since` to read on
 * from when a rejoin's page was full (more came after it), else null.
 */
export function applyJoined(name, history, members, memberCount) {
  const c = channel(name);
  const list = Array.isArray(history) ? history.filter(isMessage) : [];
  const since = c.joinSince;
  c.joinSince = null;
  const added = merge(c, list);
  // A rejoin's messages came while we were away; so did the first ones of a
  // conversation someone just opened with us.
  if ((since || c.newConversation) && name !== state.active) unseen(c, added);
  c.newConversation = false;
  if (!c.loaded) c.historyDone = list.length < PAGE_SIZE;
  c.loaded = true;
  c.inRoom = true;
  const names = Array.isArray(members) ? members.filter((u) => typeof u === 'string' && u) : [];
  c.members = new Map(names.map((u) => [u.toLowerCase(), u]));
  // An older server names everyone and says no count.
  const counted = Number.isInteger(memberCount) && memberCount >= 0;
  c.memberCount = counted ? memberCount : c.members.size;
  if (counted && names.length < memberCount) learnNamesAtOnce(names.length);
  c.membersStale = false;
  changed('messages', 'members', 'unread');
  // Messages stored late with an earlier id may come too; only the newer
  // ones tell whether the page was full.
  const newer = since ? list.filter((m) => m.id > since) : [];
  if (newer.length >= CATCH_UP) {
    // Everything up to this page's newest is here: a reconnect resumes there.
    if (c.paging === null) c.paging = '';
    const next = newer.reduce((a, m) => (m.id > a ? m.id : a), since);
    advance(c, [{ id: next }]);
    return next;
  }
  advance(c, list);
  if (c.paging) advance(c, [{ id: c.paging }]);
  c.paging = null;
  return null;
}

/** A live message; returns true when it was new. */
export function addMessage(m) {
  if (!isMessage(m)) return false;
  const c = channel(m.channel);
  const added = merge(c, [m]).length > 0;
  if (c.paging === null) advance(c, [m]);
  else if (m.id > c.paging) c.paging = m.id;
  if (c.typing.delete(m.user)) changed('typing');
  if (added && isMe(m.user) && c.pending.length) {
    // Our own message comes back before its ack: it replaces its pending row
    // at once, so the text is never shown twice.
    const i = c.pending.findIndex((p) => !p.failed && p.text === m.text);
    if (i >= 0) c.pending.splice(i, 1);
  }
  if (added && (m.channel !== state.active || document.hidden)) unseen(c, [m]);
  changed('messages');
  return added;
}

/** The reactions people may give (GET /api/emoji). */
export function setEmoji(list) {
  state.emoji = Array.isArray(list) ? list.filter((e) => typeof e === 'string') : [];
  changed('messages');
}

export function prependOlder(name, list) {
  const c = channel(name);
  merge(c, list);
  if (list.length < PAGE_SIZE) c.historyDone = true;
  changed('messages', 'history');
}

export function setLoadingOlder(name, loading) {
  channel(name).loadingOlder = loading;
  changed('history');
}

/**
 * Applies a presence batch: `joins` and `leaves` (names), `count` (how many
 * are present now; null from an older server, which tells one change at a
 * time) and `more` (more came and went than named).
 */
export function presence(name, { joins, leaves, count, more }) {
  const c = channel(name);
  let delta = 0;
  for (const user of leaves) {
    if (c.members.delete(user.toLowerCase())) delta -= 1;
    for (const typist of c.typing.keys()) if (sameUser(typist, user)) c.typing.delete(typist);
  }
  for (const user of joins) {
    const key = user.toLowerCase();
    if (!c.members.has(key)) delta += 1;
    c.members.set(key, user);
  }
  if (Number.isInteger(count) && count >= 0) c.memberCount = count;
  else c.memberCount = Math.max(c.members.size, (c.memberCount ?? 0) + delta);
  if (more) {
    c.membersStale = true;
    learnNamesAtOnce(Math.max(joins.length, leaves.length));
  }
  if (leaves.length) changed('typing');
  changed('members');
}

/** How many people are present in `name`, or null before its `joined` frame. */
export function memberCount(name) {
  const c = state.chans.get(name);
  return c && c.loaded ? c.memberCount : null;
}

/** The members panel read the people of `name` again: the names held are no longer stale. */
export function membersRead(name) {
  const c = state.chans.get(name);
  if (c) c.membersStale = false;
}

export function typing(name, user) {
  const c = channel(name);
  c.typing.set(user, Date.now() + TYPING_TTL_MS);
  setTimeout(() => {
    const until = c.typing.get(user);
    if (until !== undefined && until <= Date.now()) {
      c.typing.delete(user);
      changed('typing');
    }
  }, TYPING_TTL_MS + 50);
  changed('typing');
}

export function typingUsers(name) {
  const now = Date.now();
  return [...channel(name).typing].filter(([, until]) => until > now).map(([u]) => u);
}


/** Whether sends to `name` may go out now (it is joined on this connection). */
export const inRoom = (name) => channel(name).inRoom;

export function setConnection(status, retryAt = 0) {
  const everOpen = state.connection.everOpen || status === 'open';
  state.connection = { status, retryAt, everOpen };
  changed('connection');
}
