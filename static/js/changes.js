// Changes this tab asks of messages: edits, deletions and reactions, each
// sent with a ref, and what becomes of the server's answer to each (an
// `ack`, or an `error` with that ref). What the change does to a message
// comes back to everyone, this tab included, as an edited, deleted or
// reaction frame.

import { inRoom } from './state.js';
import { applyDeleted } from './amend.js';
import { newRef } from './socket.js';
import { toast } from './view/toast.js';


/**
 * send(frame): sends a frame now; false when the socket is not open.
 * editSaved(ref), editFailed(ref, message): the answer to an edit (the
 * latter false when the edit is no longer shown). deleteAnswered(id): the
 * answer to the deletion of message `id`.
 */
export function createChanges({ send, editSaved, editFailed, deleteAnswered }) {
  const inFlight = new Map(); // ref -> {kind, channel, id}

  /** Sends a change of message `m`; its ref, or null when it cannot go now. */
  function sendChange(kind, m, fields = {}) {
    const ref = newRef();
    const frame = { type: kind, channel: m.channel, id: m.id, ref, ...fields };
    if (!inRoom(m.channel) || !send(frame)) return null;
    inFlight.set(ref, { kind, channel: m.channel, id: m.id });
    return ref;
  }

  /** A refused change: said where it was asked for (an edit keeps its text). */
  function failed(ref, message) {
    const change = inFlight.get(ref);
    if (!change) return false;
    inFlight.delete(ref);
    if (change.kind === 'edit') {
      if (!editFailed(ref, message)) toast(`Your edit was not saved. ${message}`);
    } else if (change.kind === 'delete') {
      deleteAnswered(change.id);
      toast(`The message was not deleted. ${message}`);
    } else {
      toast(`Your reaction was not saved. ${message}`);
    }
    return true;
  }

  return {
    /** Sends an edit of our message `m`; its ref, or null when it cannot go now. */
    edit: (m, text) => sendChange('edit', m, { text }),

    /** Sends the deletion of message `m`; false when it cannot go now (the user is told). */
    remove(m) {
      if (sendChange('delete', m)) return true;
      toast('Not connected right now: the message was not deleted. Try again in a moment.');
      return false;
    },

    /** Puts (`on`) or takes back our reaction `emoji` to message `m`. */
    react(m, emoji, on) {
      if (!sendChange('react', m, { emoji, on })) toast('Not connected right now: your reaction was not saved. Try again in a moment.');
    },

    /** An ack; true when it answered one of our changes. */
    acked(ref) {
      const change = inFlight.get(ref);
      if (!change) return false;
      inFlight.delete(ref);
      if (change.kind === 'edit') {
        editSaved(ref);
      } else if (change.kind === 'delete') {
        applyDeleted(change);
        deleteAnswered(change.id);
      }
      return true;
    },

    failed,

    /**
     * The connection dropped: changes in flight will get no answer. They may
     * or may not have been made; trying again is safe (the same edit or
     * reaction again, or a deletion already made, which is answered
     * no_such_message).
     */
    dropAll() {
      for (const ref of [...inFlight.keys()]) {
        failed(ref, 'The connection dropped before the server answered; try again.');
      }
    },

    /** Forgets every change in flight (logging out). */
    forget() {
      inFlight.clear();
    },
  };
}
