// Applies server frames to the store. Anything needing the UI beyond the
// store (send failures, toasts) goes through the handlers given.

import * as store from './state.js';
import * as pending from './pending.js';
import { applyEdited, applyDeleted, applyReaction } from './amend.js';
import { applyRead } from './reads.js';
import { addNotice, setClosed } from './operators.js';
import {
  applyEditedMention, applyMention, entryOf, noteMention, removeChannel, roleOf, setRole,
} from './rooms.js';

const isEntry = (ch) => !!ch && typeof ch.name === 'string' && ch.name !== '';

/**
 * handlers.joined(channel): a channel was (re)joined.
 * handlers.presence(channel, joins, leaves, more): who came and went there
 * (the store has applied it); `more`: more than those named.
 * handlers.acked(ref): an `ack` (of a send, an edit, a deletion or a reaction).
 * handlers.sendFailed(entry, code, message): an `error` frame for one of our sends.
 * handlers.overloaded(ref): the server was too busy for our send `ref`;
 *   true when it will be sent again (false: it is shown failed).
 * handlers.changeFailed(ref, message): an `error` frame with a ref that is no
 * send; true when it was one of our edits, deletions or reactions.
 * handlers.mentioned(message): a new message from someone else mentions us
 *   (or an edit of one names us now).
 * handlers.problem(message): any other `error` frame.
 * handlers.conversation(name): a direct conversation was opened with us.
 * handlers.invited(name, by), handlers.roleChanged(name, role, by): told
 * to the person. handlers.kicked(name, by, banned): we were removed from a
 * channel (it is gone from the store by then); `banned`: from a public one.
 */
export function applyFrame(frame, handlers) {
  switch (frame.type) {
    case 'joined':
      if (typeof frame.channel === 'string') {
        const more = store.applyJoined(frame.channel, frame.history, frame.members, frame.member_count);
        setClosed(frame.channel, frame.closed === true);
        if (more) handlers.readOn(frame.channel, more);
        handlers.joined(frame.channel);
      }
      break;
    case 'message':
      if (store.addMessage(frame.message) && store.mentionsMe(frame.message)
        && !store.isMe(frame.message.user)) {
        noteMention(frame.message.id);
        handlers.mentioned(frame.message);
      }
      break;
    case 'mention':
      if (store.isMessage(frame.message) && applyMention(frame.message)) handlers.mentioned(frame.message);
      break;
    case 'dm':
      if (isEntry(frame.channel)) {
        store.addChannel({ ...frame.channel, kind: 'dm' });
        handlers.conversation(frame.channel.name);
      }
      break;
    case 'invited':
      if (isEntry(frame.channel)) {
        const known = !!entryOf(frame.channel.name);
        store.addChannel(frame.channel);
        if (!known) handlers.invited(frame.channel.name, frame.by);
      }
      break;
    case 'role':
      if (typeof frame.channel === 'string' && typeof frame.role === 'string' && entryOf(frame.channel)) {
        // Told only when it is news: inviting a member again re-sends the role they have.
        const before = roleOf(frame.channel);
        setRole(frame.channel, frame.role);
        if (before !== frame.role) handlers.roleChanged(frame.channel, frame.role, frame.by);
      }
      break;
    case 'kicked':
      if (typeof frame.channel === 'string') {
        removeChannel(frame.channel);
        handlers.kicked(frame.channel, frame.by, frame.banned === true);
      }
      break;
    case 'ack':
      if (typeof frame.ref === 'string') {
        pending.ackPending(frame.ref, frame.id);
        handlers.acked(frame.ref);
      }
      break;
    case 'edited': {
      const named = applyEdited(frame);
      if (named && applyEditedMention(named)) handlers.mentioned(named);
      break;
    }
    case 'deleted':
      applyDeleted(frame);
      break;
    case 'reaction':
      applyReaction(frame);
      break;
    case 'read':
      if (typeof frame.channel === 'string' && typeof frame.id === 'string') applyRead(frame.channel, frame.id);
      break;
    case 'presence':
      if (typeof frame.channel === 'string') onPresence(frame, handlers);
      break;
    case 'typing':
      if (typeof frame.channel === 'string' && typeof frame.user === 'string' && !store.isMe(frame.user)) {
        store.typing(frame.channel, frame.user);
      }
      break;
    case 'channel_state':
      if (typeof frame.channel === 'string') setClosed(frame.channel, frame.closed === true);
      break;
    case 'notice':
      addNotice(frame);
      break;
    case 'channel_created':
      if (frame.channel && typeof frame.channel.name === 'string') store.addChannel(frame.channel);
      break;
    case 'error':
      onError(frame, handlers);
      break;
    default:
      break; // Unknown frames are ignored: newer servers may add some.
  }
}

const names = (list) => (Array.isArray(list) ? list.filter((u) => typeof u === 'string' && u) : []);

/**
 * A batch of who came and went: `joins`, `leaves`, `count`, and `more` when
 * it could not name them all. A batch of one change also says it as `user`
 * and `event`, all that an older server sends.
 */
function onPresence(frame, handlers) {
  let joins = names(frame.joins);
  let leaves = names(frame.leaves);
  if (!joins.length && !leaves.length && typeof frame.user === 'string' && frame.user) {
    if (frame.event === 'join') joins = [frame.user];
    else if (frame.event === 'leave') leaves = [frame.user];
  }
  const more = frame.more === true;
  if (!joins.length && !leaves.length && !more && !Number.isInteger(frame.count)) return;
  store.presence(frame.channel, { joins, leaves, count: frame.count, more });
  handlers.presence(frame.channel, joins, leaves, more);
}

function onError(frame, handlers) {
  const message = typeof frame.message === 'string' && frame.message
    ? frame.message
    : `Error: ${frame.code || 'unknown'}`;
  // The server was too busy: the send goes again in a moment, still "Sending…".
  if (frame.code === 'overloaded' && typeof frame.ref === 'string' && handlers.overloaded(frame.ref)) return;
  const entry = typeof frame.ref === 'string' ? pending.failPending(frame.ref, message) : null;
  if (entry) handlers.sendFailed(entry, frame.code, message);
  else if (!(typeof frame.ref === 'string' && handlers.changeFailed(frame.ref, message))) handlers.problem(message);
  // A join that could not be answered now (history unavailable): again soon.
  if (typeof frame.channel === 'string' && frame.code === 'unavailable') {
    handlers.joinFailed(frame.channel);
  }
}
