// Sends not answered yet: shown as "Sending…" until the server acks or
// refuses them, held over a dropped connection and sent again with their
// ref once their channel is joined again. Part of the store (state.js).

import { state, channel, changed, merge } from './state.js';

/**
 * A send, shown as "Sending…". `sent`: whether it went out now; one that
 * did not (the channel is still being joined, or the socket is down) is
 * held and goes out once the channel is joined.
 */
export function addPending(name, entry, sent) {
  channel(name).pending.push({ failed: false, error: '', ...entry, held: !sent, sent });
  changed('messages');
}

function findPending(ref) {
  for (const [name, c] of state.chans) {
    const i = c.pending.findIndex((p) => p.ref === ref);
    if (i >= 0) return { name, c, i, entry: c.pending[i] };
  }
  return null;
}

/** The server accepted a sent message: it becomes a real one. */
export function ackPending(ref, id) {
  const found = findPending(ref);
  if (!found) return;
  const { name, c, i, entry } = found;
  c.pending.splice(i, 1);
  if (typeof id === 'string' && !c.messages.some((m) => m.id === id)) {
    const m = { id, channel: name, user: state.me, text: entry.text, ts: entry.ts, bot: false };
    if (entry.reply_to) m.reply_to = entry.reply_to;
    merge(c, [m]);
  }
  changed('messages');
}

/** The server refused a sent message; returns the entry (still listed, failed). */
export function failPending(ref, error) {
  const found = findPending(ref);
  if (!found) return null;
  Object.assign(found.entry, { failed: true, error });
  changed('messages');
  return { channel: found.name, ...found.entry };
}

/** Sends refused as `overloaded` in a row, at most, before one is shown failed. */
const OVERLOADED_TRIES = 6;

/**
 * The server was too busy for a send: it stays "Sending…" and is to be sent
 * again (with its ref) in a moment. Returns {channel, entry} to send again,
 * or null when there is no such send or it was refused too often.
 */
export function retryLater(ref) {
  const found = findPending(ref);
  if (!found || found.entry.failed) return null;
  found.entry.busyTries = (found.entry.busyTries || 0) + 1;
  if (found.entry.busyTries >= OVERLOADED_TRIES) return null;
  return { channel: found.name, entry: found.entry };
}

/** Whether the send `ref` still waits for its answer (not acked, not failed). */
export function stillWaiting(ref) {
  const found = findPending(ref);
  return Boolean(found && !found.entry.failed);
}

export function removePending(ref) {
  const found = findPending(ref);
  if (!found) return null;
  found.c.pending.splice(found.i, 1);
  changed('messages');
  return found.entry;
}

/**
 * After the socket drops, unacknowledged sends wait (still "Sending…") to be
 * sent again with the same ref once their channel is joined again: the
 * server stores and shows a send once however often it arrives.
 */
export function holdAllPending() {
  for (const c of state.chans.values()) {
    c.pending.forEach((p) => { if (!p.failed) p.held = true; });
    c.inRoom = false;
  }
  changed('messages');
}

/**
 * How long after its first try a send sent again is still recognized by the
 * server (the stream remembers a ref for 2 minutes), less a margin.
 */
const RESEND_WITHIN_MS = 100_000;

/**
 * The held sends of a channel, to send again now; they are no longer held.
 * One first tried too long ago could be stored twice: it is marked failed
 * instead, for the user to check the room and send it again if need be.
 */
export function takeHeld(name, now = Date.now()) {
  const held = channel(name).pending.filter((p) => p.held && !p.failed);
  held.forEach((p) => { p.held = false; });
  // One never sent is safe to send whenever.
  const fresh = held.filter((p) => !p.sent || now - Date.parse(p.ts) <= RESEND_WITHIN_MS);
  const stale = held.filter((p) => !fresh.includes(p));
  fresh.forEach((p) => { p.sent = true; });
  const error = 'Not confirmed: it may have been sent while you were away. Check above before retrying.';
  stale.forEach((p) => Object.assign(p, { failed: true, unsure: true, error }));
  if (stale.length) changed('messages');
  return fresh;
}
