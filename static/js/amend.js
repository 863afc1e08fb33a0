// Changes to messages as the server reports them (edited, deleted and
// reaction frames), applied by the archive's rules to every copy the store
// keeps of the message. Part of the store (state.js).

import { changed, copiesOf, editedAt, isMe, mentionsMe, sameUser } from './state.js';

/**
 * Applies `change` to message `id` of channel `name`, where it is loaded
 * and where a reply's quote keeps it; `change(m)` changes m in place and
 * says whether it did.
 */
function amend(name, id, change) {
  if (typeof name !== 'string' || typeof id !== 'string') return;
  if (copiesOf(name, id).map(change).some(Boolean)) changed('messages');
}

/**
 * An `edited` frame: the new text and whom it mentions, unless the message
 * is deleted or has a later edit (the server's rule). Returns the message
 * when the edit names us where it did not before (someone else's), else null.
 */
export function applyEdited({ channel: name, id, text, edited_at: at, mentions }) {
  const when = typeof at === 'string' ? Date.parse(at) : NaN;
  if (typeof text !== 'string' || Number.isNaN(when)) return null;
  const named = Array.isArray(mentions) ? mentions.filter((u) => typeof u === 'string') : [];
  let newly = null;
  amend(name, id, (m) => {
    if (m.deleted || editedAt(m) > when) return false;
    const before = mentionsMe(m);
    Object.assign(m, { text, edited_at: at, mentions: named });
    if (!before && mentionsMe(m) && !isMe(m.user)) newly = m;
    return true;
  });
  return newly;
}

/** A `deleted` frame (or the ack of our deletion): the message becomes a tombstone. */
export function applyDeleted({ channel: name, id }) {
  amend(name, id, (m) => {
    if (m.deleted) return false;
    Object.assign(m, { text: '', deleted: true });
    delete m.reactions;
    return true;
  });
}

/**
 * A `reaction` frame: `user` put (`on`) or took back `emoji` on message
 * `id`. An emoji nobody gives any more goes; a deleted message has none.
 */
export function applyReaction({ channel: name, id, emoji, user, on }) {
  if (typeof emoji !== 'string' || typeof user !== 'string') return;
  amend(name, id, (m) => {
    if (m.deleted) return false;
    const reactions = { ...(m.reactions || {}) };
    const who = Array.isArray(reactions[emoji]) ? reactions[emoji] : [];
    const has = who.some((u) => sameUser(u, user));
    if (has === !!on) return false;
    reactions[emoji] = on ? [...who, user] : who.filter((u) => !sameUser(u, user));
    if (!reactions[emoji].length) delete reactions[emoji];
    m.reactions = reactions;
    return true;
  });
}
