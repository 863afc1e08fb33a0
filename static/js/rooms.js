// People and rooms: what kind each channel is (public, private or a direct
// conversation), the caller's role there, how a channel is named on screen,
// channels given or taken away by person-addressed frames (`dm`, `invited`,
// `role`, `kicked`), mentions that arrive for channels this tab has not
// joined, and edits that newly mention us. Part of the store (state.js).

import { state, changed, channel, isMe, setChannels } from './state.js';

const ROLES = ['owner', 'moderator', 'member'];
const KINDS = ['public', 'private', 'dm'];
/** Mention ids already counted, so one that also comes as a message counts once. */
const MENTIONS_KEPT = 500;
const counted = new Set();

/** The channel list's entry for `name`, or null. */
export const entryOf = (name) => state.channels.find((ch) => ch.name === name) || null;

/**
 * The kind of channel `name`: as listed, else from its name (a direct
 * conversation is named dm~a~b), else public.
 */
export function kindOf(name) {
  const entry = entryOf(name);
  if (entry && KINDS.includes(entry.kind)) return entry.kind;
  return typeof name === 'string' && name.startsWith('dm~') ? 'dm' : 'public';
}

export const isDm = (name) => kindOf(name) === 'dm';
export const isPrivate = (name) => kindOf(name) === 'private';

/** Our role in `name`: owner, moderator, member, or null. */
export function roleOf(name) {
  const entry = entryOf(name);
  return entry && ROLES.includes(entry.role) ? entry.role : null;
}

/** Whether we may invite, promote and remove people in `name` (never in a DM). */
export const canManage = (name) => !isDm(name) && ['owner', 'moderator'].includes(roleOf(name));

/**
 * The other person of a direct conversation: as listed, else the part of
 * its name that is not ours (names in it are lower case).
 */
export function peerOf(name) {
  const entry = entryOf(name);
  if (entry && typeof entry.peer === 'string' && entry.peer) return entry.peer;
  const parts = String(name).split('~').slice(1);
  const me = (state.me || '').toLowerCase();
  return parts.find((p) => p !== me) || parts[0] || name;
}

/** How channel `name` is called in sentences: `#name`, or the person of a DM. */
export const labelOf = (name) => (isDm(name) ? peerOf(name) : `#${name}`);

/** Applies a `role` frame: our role in `name` is now `role`. */
export function setRole(name, role) {
  const entry = entryOf(name);
  if (!entry || !ROLES.includes(role)) return;
  setChannels([{ ...entry, role }]);
  changed('roles');
}

/**
 * Our role in `name` as the channel's people list says (null: none there).
 * It tells what the channel list could not: a channel created on another
 * device comes as `channel_created`, without our role in it.
 */
export function learnRole(name, role) {
  const entry = entryOf(name);
  const known = ROLES.includes(role) ? role : null;
  if (!entry || roleOf(name) === known) return;
  setChannels([{ ...entry, role: known }]);
}

/**
 * We were removed from `name` (a `kicked` frame): it leaves the list and is
 * never joined again by this tab (the server already took the connection
 * out of it); what was held for it is forgotten.
 */
export function removeChannel(name) {
  state.channels = state.channels.filter((ch) => ch.name !== name);
  state.joined.delete(name);
  state.chans.delete(name);
  changed('channels', 'unread', 'roles');
}

/** Notes that the mention `id` was counted (it came as a message of a joined channel). */
export function noteMention(id) {
  counted.add(id);
  if (counted.size > MENTIONS_KEPT) counted.delete(counted.values().next().value);
}

/**
 * A `mention` frame: a message naming us. A channel this tab has joined
 * counts it when its `message` comes (or its rejoin does); for any other
 * channel it raises the badges here, once per message id, unless that
 * channel is open in sight or already read past it. Returns true when it
 * was counted (the caller tells of it).
 */
export function applyMention(m) {
  if (counted.has(m.id) || isMe(m.user) || state.joined.has(m.channel)) return false;
  if (m.channel === state.active && !document.hidden) return false;
  if (!entryOf(m.channel)) return false; // a channel we were removed from meanwhile
  const c = channel(m.channel);
  if (c.lastRead && m.id <= c.lastRead) return false;
  noteMention(m.id);
  // An edited message was counted unread when it came; only the mention is new.
  if (!m.edited_at) c.unread += 1;
  c.mentions += 1;
  changed('unread');
  return true;
}

/**
 * An edit, in a channel this tab has joined, that names us where the message
 * did not before: a mention like a new one (once per message id), counted on
 * the badge unless the channel is open in sight or read past it. Returns
 * true when it is new (the caller tells of it).
 */
export function applyEditedMention(m) {
  if (counted.has(m.id)) return false;
  noteMention(m.id);
  const c = channel(m.channel);
  const seen = m.channel === state.active && !document.hidden;
  if (!seen && !(c.lastRead && m.id <= c.lastRead)) {
    c.mentions += 1;
    changed('unread');
  }
  return true;
}
