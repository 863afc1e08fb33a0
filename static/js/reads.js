// How far each channel is read: the markers the channel list gives, those
// our other connections report (`read` frames) and those this tab sends;
// the unread and mention counts that follow from them; and when to send a
// `read`: once the newest message of the open channel is in view in a
// visible tab. Part of the store (state.js).

import { state, channel, changed, inRoom, isMe, mentionsMe } from './state.js';

/** How long a read waits, so that a burst of messages or of scrolling sends one. */
const READ_DELAY_MS = 500;

const count = (n) => (Number.isInteger(n) && n > 0 ? n : 0);

/** Moves the read marker of `c` forward to `id`; false when it is not ahead. */
function forward(c, id) {
  if (typeof id !== 'string' || !id || (c.lastRead && id <= c.lastRead)) return false;
  c.lastRead = id;
  return true;
}

/** The loaded messages from others after the marker of `c`: [unread, mentioning us]. */
function countLoaded(c) {
  const after = c.messages.filter((m) => !isMe(m.user) && !m.deleted && m.id > c.lastRead);
  return [after.length, after.filter(mentionsMe).length];
}

/**
 * The read state of the channel list (GET /api/channels): each channel's
 * marker, and its counts. A channel this tab has loaded counts what it
 * holds after the marker, or what the list says when that is more (more
 * came than is loaded).
 */
export function applyReadState(list) {
  for (const entry of list) {
    if (!entry || typeof entry.name !== 'string') continue;
    const c = channel(entry.name);
    forward(c, entry.last_read);
    if (!c.loaded) {
      c.unread = count(entry.unread);
      c.mentions = count(entry.mentions);
    } else if (c.lastRead) {
      const [unread, mentions] = countLoaded(c);
      c.unread = Math.max(unread, count(entry.unread));
      c.mentions = Math.max(mentions, count(entry.mentions));
    }
  }
  state.readsKnown = true;
  changed('unread');
}

/** Nothing will tell how far channels are read (the list failed): reads may go anyway. */
export function readsUnknown() {
  state.readsKnown = true;
}

/**
 * A `read` frame: we read `name` up to `id` on another connection, so
 * only what this tab holds after it is still unread.
 */
export function applyRead(name, id) {
  const c = channel(name);
  if (!forward(c, id)) return;
  const open = name === state.active && !document.hidden;
  [c.unread, c.mentions] = open ? [0, 0] : countLoaded(c);
  changed('unread');
}

/**
 * Sends `read` for the open channel once its newest message is in view.
 * send(frame): sends a frame, false when it cannot go. atBottom(): whether
 * the newest message is in view. schedule() after anything that may have
 * brought it into view; reads coming within READ_DELAY_MS go as one.
 */
export function createReader({ send, atBottom }) {
  let timer = null;

  function flush() {
    timer = null;
    const name = state.active;
    // Only a channel joined on this connection takes a read.
    if (!name || !state.readsKnown || document.hidden || !inRoom(name) || !atBottom()) return;
    const c = channel(name);
    const newest = c.messages.length ? c.messages[c.messages.length - 1].id : null;
    if (!newest || (c.lastRead && newest <= c.lastRead)) return;
    if (send({ type: 'read', channel: name, id: newest })) c.lastRead = newest;
  }

  return {
    schedule() {
      if (!timer) timer = setTimeout(flush, READ_DELAY_MS);
    },
    cancel() {
      clearTimeout(timer);
      timer = null;
    },
  };
}
