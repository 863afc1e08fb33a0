// Entry point: picks the screen (auth or chat), owns the socket, and wires the
// store to the views.

import * as api from './api.js';
import { createSocket, newRef } from './socket.js';
import { createChanges } from './changes.js';
import { applyReadState, createReader, readsUnknown } from './reads.js';
import * as store from './state.js';
import * as pending from './pending.js';
import { applyFrame } from './frames.js';
import { isDm, isPrivate, peerOf, removeChannel } from './rooms.js';
import { $, h } from './view/dom.js';
import { avatar } from './view/avatar.js';
import { initAuthView } from './view/auth.js';
import { initSidebar } from './view/sidebar.js';
import { initMessages } from './view/messages.js';
import { initMembers } from './view/members.js';
import { initComposer } from './view/composer.js';
import { initTyping } from './view/typing.js';
import { initSearch } from './view/search.js';
import { initBanner } from './view/banner.js';
import { initNotices } from './view/notices.js';
import { setClosed } from './operators.js';
import { initLayout } from './view/layout.js';
import { initNotify } from './view/notify.js';
import { initTicker } from './view/ticker.js';
import { initCashtags } from './view/cashtag.js';
import { createQuotes } from './quotes.js';
import { toast } from './view/toast.js';
import { lockIcon } from './view/sidebar.js';

const { state } = store;
const HOME = 'general';
/** A channel's name, or a direct conversation's (dm~a~b, both lower case). */
const CHANNEL_NAME = /^(?:[a-z0-9][a-z0-9_-]{1,49}|dm~[a-z0-9_]{3,32}~[a-z0-9_]{3,32})$/;
/** Direct conversations joined in the background after login, so their messages count as unread live. */
const DM_JOINS = 20;
const OLDER_RETRY_MS = 5000;
const JOIN_RETRY_MS = 2000;
const SESSION_ENDED = 'Your session has ended. Please log in again.';

const olderBlockedUntil = new Map();
/** Channels joined again after a reconnect whose `joined` has not come yet. */
const rejoining = new Set();

const socket = createSocket({
  onFrame: (frame) => {
    applyFrame(frame, {
      joined, readOn, joinFailed, acked: (ref) => changes.acked(ref), sendFailed, overloaded,
      changeFailed: (ref, message) => changes.failed(ref, message), mentioned: (m) => notify.mentioned(m),
      problem: toast, conversation, kicked, invited, roleChanged,
      presence: (name, joins, leaves, more) => members.presence(name, joins, leaves, more),
    });
    if (frame.type === 'message') ticker.message(frame.message);
  },
  onStatus: onSocketStatus,
  preflight: async () => {
    try {
      await api.me();
      return 'ok';
    } catch (err) {
      return err.status === 401 ? 'unauthorized' : 'unreachable';
    }
  },
});

function onSocketStatus({ status, retryAt }) {
  if (status === 'unauthorized') {
    leaveChat(SESSION_ENDED);
    return;
  }
  if (status === 'waiting' && state.connection.status === 'open') {
    pending.holdAllPending();
    changes.dropAll();
  }
  const again = status === 'open' && state.connection.everOpen;
  store.setConnection(status, retryAt);
  if (again) state.joined.forEach((name) => rejoining.add(name));
  if (status === 'open') state.joined.forEach((name) => sendJoin(name));
  if (again) catchUpChannels();
}

/**
 * After a reconnect, the channel list again: frames addressed to us while
 * the connection was down (a conversation opened, an invitation, a role,
 * a removal) are lost, and the list says what they would have.
 */
async function catchUpChannels() {
  const me = state.me;
  let list;
  try {
    list = await api.channels();
  } catch (err) {
    if (state.me === me) sessionCheck(err);
    return;
  }
  if (state.me !== me) return;
  const listed = new Set(list.map((ch) => ch && ch.name));
  const gone = state.channels.filter((ch) => !listed.has(ch.name) && ch.name !== HOME).map((ch) => ch.name);
  gone.forEach((name) => removeChannel(name));
  if (gone.includes(state.active)) openChannel(HOME);
  store.setChannels(list);
  list.filter((ch) => ch.kind === 'dm').slice(0, DM_JOINS).forEach((ch) => joinQuietly(ch.name));
}

function sendJoin(name) {
  const since = store.lastId(name);
  store.markJoining(name, since);
  socket.send(since ? { type: 'join', channel: name, since } : { type: 'join', channel: name });
}

/** Joins again, from the cursor, a channel whose join failed for now. */
function joinFailed(name) {
  setTimeout(() => {
    if (socket.isOpen() && state.joined.has(name)) sendJoin(name);
  }, JOIN_RETRY_MS);
}

/** A rejoin's page was full: the next page, from its newest message. */
function readOn(name, since) {
  store.markJoining(name, since, false);
  socket.send({ type: 'join', channel: name, since });
}

function sessionCheck(err) {
  if (err && err.status === 401) {
    leaveChat(SESSION_ENDED);
    return true;
  }
  return false;
}

// ---- actions -------------------------------------------------------------

/**
 * Joins a channel without opening it (a direct conversation), so that its
 * messages arrive and count as unread.
 */
function joinQuietly(name) {
  if (state.joined.has(name)) return;
  state.joined.add(name);
  if (socket.isOpen()) sendJoin(name);
}

/** Someone opened a conversation with us: what they write in it from the start is unread. */
function conversation(name) {
  if (!state.joined.has(name)) store.channel(name).newConversation = true;
  joinQuietly(name);
}

/** We were removed from `name` (the store has forgotten it): away from it, and told so. */
function kicked(name, by, banned) {
  if (state.active === name || !state.active) openChannel(HOME);
  const who = typeof by === 'string' && by ? ` by ${by}` : '';
  const until = banned ? ' You can join it again once the ban is lifted.' : '';
  toast(`You were removed from #${name}${who}.${until}`, { notice: true });
}

function invited(name, by) {
  // A private channel we made on another device: nothing to announce.
  if (typeof by === 'string' && state.me && by.toLowerCase() === state.me.toLowerCase()) return;
  const who = typeof by === 'string' && by ? `${by} added you` : 'You were added';
  toast(`${who} to the private channel #${name}.`, { notice: true });
}

function roleChanged(name, role, by) {
  const who = typeof by === 'string' && by ? by : 'Someone';
  const what = role === 'moderator' ? 'a moderator' : role === 'owner' ? 'the owner' : 'a member';
  toast(`${who} made you ${what} of #${name}.`, { notice: true });
}

function openChannel(name) {
  store.setActive(name);
  if (!state.joined.has(name)) {
    state.joined.add(name);
    if (socket.isOpen()) sendJoin(name);
  }
  if (location.hash !== `#${name}`) history.replaceState(null, '', `#${name}`);
  layout.closeDrawers();
}

async function loadOlder(name) {
  const c = store.channel(name);
  if (!c.messages.length || (olderBlockedUntil.get(name) || 0) > Date.now()) return;
  store.setLoadingOlder(name, true);
  const stale = () => state.chans.get(name) !== c; // logged out meanwhile
  try {
    const list = await api.messages(name, { before: c.messages[0].id, limit: store.PAGE_SIZE });
    if (!stale()) store.prependOlder(name, list);
  } catch (err) {
    if (stale() || sessionCheck(err)) return;
    if (err.status === 404) {
      store.prependOlder(name, []);
    } else {
      olderBlockedUntil.set(name, Date.now() + OLDER_RETRY_MS);
      toast(`Couldn't load older messages: ${err.message}`);
    }
  } finally {
    if (!stale()) store.setLoadingOlder(name, false);
  }
}

async function createChannel(name, options) {
  try {
    const created = await api.createChannel(name, options);
    if (created && created.name) store.addChannel(created);
    return created;
  } catch (err) {
    sessionCheck(err);
    throw err;
  }
}

/** Sends `text` to `channel`, as a reply to the message `replyTo` if given. */
function sendText(channel, text, replyTo = null) {
  const ref = newRef();
  const extra = replyTo ? { reply_to: replyTo } : {};
  // Until the channel is joined on this connection a send waits (the server
  // would answer not_joined); `joined` sends what waits.
  const sent = store.inRoom(channel) && socket.send({ type: 'send', channel, text, ref, ...extra });
  pending.addPending(channel, { ref, text, ts: new Date().toISOString(), ...extra }, sent);
  if (!sent && !socket.isOpen()) pending.holdAllPending();
  // Having written, the person has caught up: the "New" line has served.
  store.clearDivider(channel);
}

/** Fetches a quoted original that is not loaded in its channel (once). */
const askedOriginals = new Set();
async function fetchOriginal(name, id) {
  if (askedOriginals.has(id)) return;
  askedOriginals.add(id);
  try {
    store.rememberOriginal(id, await api.message(name, id));
  } catch (err) {
    if (sessionCheck(err)) return;
    if (err.status === 404) store.rememberOriginal(id, null);
    else askedOriginals.delete(id);
  }
}

/**
 * A channel was (re)joined: what waited to be sent goes, and its watchlist
 * is read again; after a reconnect, so are its members (while shown): who
 * came and went meanwhile was not told.
 */
function joined(channel) {
  resendHeld(channel);
  ticker.joined(channel);
  if (rejoining.delete(channel)) members.rejoined(channel);
}

/** Sends again, with their first ref, the sends a dropped connection left unanswered. */
function resendHeld(channel) {
  for (const p of pending.takeHeld(channel)) {
    const extra = p.reply_to ? { reply_to: p.reply_to } : {};
    socket.send({ type: 'send', channel, text: p.text, ref: p.ref, ...extra });
  }
}

/**
 * A send the server refused as overloaded: sent again with the same ref
 * after a pause that grows and is spread out (so that every waiting client
 * does not come back at once). False when it was refused too often (it is
 * then shown failed).
 */
function overloaded(ref) {
  const again = pending.retryLater(ref);
  if (!again) return false;
  const { channel, entry } = again;
  const wait = 500 * 2 ** Math.min(entry.busyTries - 1, 3) * (0.5 + Math.random());
  setTimeout(() => {
    if (!pending.stillWaiting(ref) || !state.chans.get(channel)?.inRoom) return;
    const extra = entry.reply_to ? { reply_to: entry.reply_to } : {};
    socket.send({ type: 'send', channel, text: entry.text, ref, ...extra });
  }, wait);
  return true;
}

function sendFailed(entry, code, message) {
  // The channel was closed before we heard of it: the composer says so now.
  if (code === 'channel_closed') setClosed(entry.channel, true);
  const restored = entry.channel === state.active && composer.sendFailed(message, entry.text);
  if (restored) pending.removePending(entry.ref);
}

// ---- views ---------------------------------------------------------------

const changes = createChanges({
  send: (frame) => socket.send(frame),
  editSaved: (ref) => composer.editSaved(ref),
  editFailed: (ref, message) => composer.editFailed(ref, message),
  deleteAnswered: (id) => messages.deleteAnswered(id),
});
const layout = initLayout({
  onSidebarOpened: () => sidebar.focusActive(),
  onMembersShown: (shown) => members.shown(shown),
});
/** An API call whose 401 ends the session here; other errors go to the caller. */
const checked = (call) => async (...args) => {
  try {
    return await call(...args);
  } catch (err) {
    sessionCheck(err);
    throw err;
  }
};

/** Opens the direct conversation with `user`, starting it if need be. */
async function message(user) {
  const ch = await checked(api.openDm)(user);
  if (!ch || typeof ch.name !== 'string') throw new Error('The server did not say which conversation to open.');
  store.addChannel({ ...ch, kind: 'dm' });
  openChannel(ch.name);
}

const quotes = createQuotes(checked(api.quote));
const ticker = initTicker({ watchlist: checked(api.watchlist), quotes });
const cashtags = initCashtags({ quotes });

const people = {
  users: checked(api.users),
  page: checked(api.membersPage),
  bans: checked(api.bans),
  invite: checked((name, user) => api.addMember(name, user)),
  setRole: checked(api.addMember),
  remove: checked(api.removeMember),
  liftBan: checked(api.liftBan),
};
const sidebar = initSidebar({ open: openChannel, create: createChannel, users: people.users, message });
const messages = initMessages({
  loadOlder,
  retry: (channel, entry) => {
    pending.removePending(entry.ref);
    sendText(channel, entry.text, entry.reply_to);
  },
  discard: (ref) => pending.removePending(ref),
  reply: (m) => composer.replyTo(m),
  edit: (m) => composer.edit(m),
  remove: (m) => changes.remove(m),
  react: (m, emoji, on) => changes.react(m, emoji, on),
  seeBottom: () => reader.schedule(),
  needOriginal: fetchOriginal,
});
const reader = createReader({ send: (frame) => socket.send(frame), atBottom: () => messages.atBottom() });
const notify = initNotify({ open: openChannel });
const members = initMembers(people, { visible: () => layout.membersVisible() });
const composer = initComposer({
  send: (text, replyTo) => sendText(state.active, text, replyTo),
  // Typing is told only once the channel is joined (the server would answer not_joined).
  typing: () => store.inRoom(state.active) && socket.send({ type: 'typing', channel: state.active }),
  save: (m, text) => changes.edit(m, text),
});
const typing = initTyping();
const searchView = initSearch({
  search: async (q, before) => {
    try {
      return await api.search(q, { before });
    } catch (err) {
      sessionCheck(err);
      throw err;
    }
  },
  open: (name, id) => {
    openChannel(name);
    messages.jumpTo(name, id).then((found) => {
      if (!found && state.active === name) toast('That message is too far back to show here.');
    });
  },
});
const banner = initBanner({ retryNow: () => socket.retryNow() });
const notices = initNotices();
const auth = initAuthView({
  submit: async (mode, username, password, endOthers) => {
    const res = mode === 'register'
      ? await api.register(username, password)
      : await api.login(username, password, endOthers);
    return res && res.username ? res.username : username;
  },
  onAuthed: (username) => enterChat(username),
});

/** The header names the open channel (a lock when private), or the person of a DM. */
function renderTitle() {
  const title = $('channel-title');
  const name = state.active;
  title.classList.toggle('is-dm', !!name && isDm(name));
  if (!name) title.replaceChildren();
  else if (isDm(name)) title.replaceChildren(avatar(peerOf(name), 'sm'), h('span', { class: 'title-name', text: peerOf(name) }));
  else if (isPrivate(name)) title.replaceChildren(`# ${name}`, lockIcon());
  else title.replaceChildren(`# ${name}`);
}

function renderHeader(topics) {
  if (topics.has('active') || topics.has('channels')) renderTitle();
  if (topics.has('me')) {
    const me = $('current-user');
    me.replaceChildren();
    if (state.me) {
      const name = document.createElement('span');
      name.className = 'current-user-name';
      name.textContent = state.me;
      me.append(avatar(state.me, 'sm'), name);
      me.setAttribute('title', `Signed in as ${state.me}`);
    }
  }
  if (topics.has('unread')) {
    let total = 0;
    state.chans.forEach((c) => { total += c.unread; });
    document.title = total ? `(${total}) Chat` : 'Chat';
    layout.setUnread(total > 0);
  }
}

store.subscribe((topics) => {
  banner.render(topics);
  if (!state.me) return;
  renderHeader(topics);
  ticker.render(topics);
  if (topics.has('channels') || topics.has('active') || topics.has('unread')) sidebar.render();
  notices.render(topics);
  messages.render(topics);
  members.render(topics);
  typing.render(topics);
  composer.render(topics);
});

// ---- screens -------------------------------------------------------------

function showScreen(name) {
  $('splash').hidden = name !== 'splash';
  $('auth-screen').hidden = name !== 'auth';
  $('chat-screen').hidden = name !== 'chat';
}

async function enterChat(username) {
  store.reset(username);
  messages.reset();
  ticker.reset();
  searchView.close();
  sidebar.reset();
  composer.clear();
  showScreen('chat');
  const wanted = channelInHash();
  openChannel(HOME);
  socket.connect();
  composer.focus();
  loadEmoji(username);
  // Until the list is in, the sidebar says it is loading (and a page script can wait for it).
  const channelList = $('channel-list');
  channelList.setAttribute('aria-busy', 'true');
  let list;
  try {
    list = await api.channels();
  } catch (err) {
    if (state.me !== username) return;
    channelList.removeAttribute('aria-busy');
    readsUnknown();
    if (!sessionCheck(err)) toast(`Couldn't load the channel list: ${err.message}`);
    return;
  }
  if (state.me !== username) return; // logged out meanwhile
  channelList.removeAttribute('aria-busy');
  store.setChannels(list);
  applyReadState(list);
  list.filter((ch) => ch.kind === 'dm').slice(0, DM_JOINS).forEach((ch) => joinQuietly(ch.name));
  // What the list says is unread in the channel shown is seen now, below the "New" line.
  if (wanted && wanted !== HOME && isKnown(wanted)) openChannel(wanted);
  else if (state.active && !document.hidden) store.markSeen(state.active);
  reader.schedule();
}

/** The emoji people may react with, once after login; without them there is no picker. */
async function loadEmoji(username) {
  try {
    const list = await api.emoji();
    if (state.me === username) store.setEmoji(list);
  } catch (err) {
    if (state.me === username) sessionCheck(err);
  }
}

function channelInHash() {
  let name = '';
  try {
    name = decodeURIComponent(location.hash.slice(1));
  } catch {
    name = '';
  }
  return CHANNEL_NAME.test(name) ? name : null;
}

const isKnown = (name) => state.channels.some((ch) => ch.name === name);

function leaveChat(message = '') {
  socket.close();
  rejoining.clear();
  $('channel-list').removeAttribute('aria-busy');
  changes.forget();
  reader.cancel();
  store.reset(null);
  messages.reset();
  ticker.reset();
  cashtags.close();
  quotes.forget();
  searchView.close();
  document.title = 'Chat';
  auth.reset(message);
  showScreen('auth');
  auth.focus();
}

async function logOut(everywhere) {
  socket.close();
  try {
    await api.logout(everywhere);
  } catch {
    // The session is forgotten locally either way.
  }
  leaveChat(everywhere ? 'You are logged out on every device.' : '');
}

$('logout').addEventListener('click', () => logOut(false));
$('logout-everywhere').addEventListener('click', () => logOut(true));

document.addEventListener('visibilitychange', () => {
  if (document.hidden || !state.me || !state.active) return;
  store.markSeen(state.active);
  reader.schedule();
});

window.addEventListener('hashchange', () => {
  const wanted = channelInHash();
  if (state.me && wanted && wanted !== state.active && isKnown(wanted)) openChannel(wanted);
});

async function boot() {
  try {
    const me = await api.me();
    if (me && me.username) {
      enterChat(me.username);
      return;
    }
    leaveChat();
  } catch (err) {
    leaveChat(err.status === 401 ? '' : err.message);
  }
}

boot();
