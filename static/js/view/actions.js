// The actions on a message, shown on hover, focus or a long press: react to
// it, reply to it, and for our own edit or delete it (after an inline
// confirmation; "Deleting…" until the server answers).

import { state, isOwn } from '../state.js';
import { h } from './dom.js';

/**
 * react(button, m): opens the emoji picker by `button`. reply(m), edit(m):
 * start answering or editing `m`. remove(m): sends its deletion, false
 * when it cannot go now. rerender(): draws the rows again. rowOf(id): the
 * row of message `id`, if shown.
 */
export function initActions({ react, reply, edit, remove, rerender, rowOf }) {
  let confirming = null; // id of the message whose deletion awaits confirmation
  const deleting = new Set(); // ids of messages whose deletion awaits the server

  /** Shows or hides the confirmation of deleting message `id`. */
  function confirmDelete(id) {
    confirming = id;
    rerender();
    if (id) rowOf(id)?.querySelector('.msg-confirm .btn-danger')?.focus();
  }

  function deleteNow(m) {
    confirming = null;
    if (remove(m)) deleting.add(m.id);
    rerender();
  }

  function confirmation(m) {
    const cancel = () => {
      confirmDelete(null);
      rowOf(m.id)?.querySelector('.msg-action')?.focus();
    };
    return h('div', {
      class: 'msg-confirm',
      role: 'group',
      'aria-label': 'Delete this message?',
      onkeydown: (ev) => { if (ev.key === 'Escape') cancel(); },
    },
    h('span', { class: 'msg-confirm-text', text: 'Delete this message?' }),
    h('button', { type: 'button', class: 'btn btn-small btn-danger', onclick: () => deleteNow(m), text: 'Delete' }),
    h('button', { type: 'button', class: 'btn btn-small', onclick: cancel, text: 'Cancel' }));
  }

  /** The actions on message `m`: reply to it, react when reactions are known, edit or delete it when ours. */
  function actionsOf(m) {
    if (m.id === confirming) return confirmation(m);
    if (deleting.has(m.id)) return h('span', { class: 'msg-state', text: 'Deleting…' });
    const own = isOwn(m);
    const action = (key, label, text, onclick, extra = {}) => h('button', {
      type: 'button', class: 'msg-action', 'aria-label': label, 'data-focus': key, onclick, text, ...extra,
    });
    return h('div', { class: 'msg-actions' },
      action('reply', `Reply to ${m.user}`, '↩ Reply', () => reply(m)),
      state.emoji.length
        ? action('react', 'Add reaction', '☺ React', (ev) => react(ev.currentTarget, m), { 'aria-haspopup': 'dialog', title: 'Add reaction' })
        : null,
      own ? action('edit', 'Edit your message', 'Edit', () => edit(m)) : null,
      own ? action('delete', 'Delete your message', 'Delete', () => confirmDelete(m.id)) : null);
  }

  return {
    actionsOf,
    /**
     * What the row of message `id` asks of its author now ('confirm' a
     * deletion, 'deleting'), part of its signature.
     */
    asking: (id) => (id === confirming ? 'confirm' : deleting.has(id) ? 'deleting' : ''),
    /** The server answered the deletion of message `id`; true when it was awaited. */
    deleteAnswered: (id) => deleting.delete(id),
    /** Leaving the channel: no deletion is being confirmed any more. */
    leave() {
      confirming = null;
    },
    reset() {
      confirming = null;
      deleting.clear();
    },
  };
}
