// The message composer: Enter sends, Shift+Enter adds a line, a counter near
// the 2000-character limit, throttled typing notices, command hints for "/",
// the message being replied to (Escape cancels), editing one's own message
// in place of the draft (ArrowUp in an empty box edits the last one; Enter
// saves, Escape gives the draft back), disabled with a visible reason while
// the socket is not open or an operator has closed the channel.

import { state, findMessage, lastOwn } from '../state.js';
import { labelOf } from '../rooms.js';
import { isClosed } from '../operators.js';
import { $, h, showText } from './dom.js';

const MAX_CHARS = 2000;
const COUNTER_FROM = 1800;
const TYPING_EVERY_MS = 2000;
const MAX_ROWS = 8;

const COMMANDS = [
  { fill: '/stock=', name: '/stock=CODE', about: 'get a stock quote (e.g. /stock=aapl.us)' },
  { fill: '/chart=', name: '/chart=CODE[,DAYS]', about: 'a price chart, 30 days unless told (5–365)' },
  { fill: '/alert ', name: '/alert CODE > PRICE', about: 'mention me when the price goes above (or < below) it' },
  { fill: '/alerts', name: '/alerts', about: 'list my alerts here (/alert cancel N cancels one)' },
  { fill: '/watch ', name: '/watch CODE,…', about: 'add codes to the channel\'s ticker strip' },
  { fill: '/unwatch ', name: '/unwatch CODE', about: 'take a code off the ticker strip' },
  { fill: '/help', name: '/help', about: 'list commands' },
];

/** The first line of a message's text, for a one-line quote. */
export const firstLine = (text) => text.split('\n', 1)[0];

/**
 * send(text, replyTo): queue a message for the active channel (a reply to
 * the message id `replyTo`, or null). typing(): notify others; true when told.
 * save(m, text): send an edit of message `m`; its ref, or null when it
 * cannot go now. The answer comes back through editSaved/editFailed.
 */
export function initComposer({ send, typing, save }) {
  const form = $('composer');
  const input = $('composer-input');
  const button = $('composer-send');
  const status = $('composer-status');
  const counter = $('composer-counter');
  const hints = $('command-hints');
  const error = $('composer-error');
  const label = $('composer-label');
  const closedLine = $('composer-closed');
  const replyBar = $('reply-bar');
  const replyText = $('reply-bar-text');
  const editBar = $('edit-bar');
  const editLabel = $('edit-bar-label');
  const editText = $('edit-bar-text');
  let replying = null; // the message being answered
  // The message being edited, what the box held before (given back after),
  // and the ref of its save while the server has not answered.
  let editing = null; // {m, draft, ref}
  let lastTyping = 0;
  let hintsDismissed = false;
  let refocus = false;

  function renderHints() {
    const value = input.value;
    const word = value.split(/[=\s]/)[0];
    const show = !hintsDismissed && !editing && value.startsWith('/') && !/\s/.test(value);
    const matches = show ? COMMANDS.filter((c) => c.fill.startsWith(word) || word.startsWith(c.fill)) : [];
    hints.replaceChildren(...matches.map((c) => h('li', {},
      h('button', {
        type: 'button',
        class: 'hint-btn',
        onclick: () => {
          input.value = c.fill;
          hintsDismissed = true;
          refresh();
          input.focus();
          input.setSelectionRange(c.fill.length, c.fill.length);
        },
      }, h('span', { class: 'hint-name', text: c.name }), h('span', { class: 'hint-about', text: ` — ${c.about}` })))));
    hints.hidden = matches.length === 0;
  }

  function refresh() {
    const len = input.value.length;
    counter.textContent = len >= COUNTER_FROM ? `${len} / ${MAX_CHARS}` : '';
    counter.classList.toggle('is-full', len >= MAX_CHARS);
    input.rows = Math.min(MAX_ROWS, Math.max(1, input.value.split('\n').length));
    renderHints();
  }

  function setReply(m) {
    replying = m;
    replyBar.hidden = !m;
    replyText.textContent = m ? `${m.user}: ${firstLine(m.text)}` : '';
  }

  $('reply-cancel').addEventListener('click', () => {
    setReply(null);
    input.focus();
  });

  /** Shows whether an edit is being saved (the box is read-only meanwhile). */
  function setSaving(ref) {
    editing.ref = ref;
    input.readOnly = !!ref;
    editLabel.textContent = ref ? 'Saving…' : 'Editing';
  }

  /**
   * Puts our message `m` in the box to edit. The draft is kept aside. No
   * length cap while editing: a paste is never cut short; the counter
   * warns, and a refusal keeps the text.
   */
  function startEdit(m) {
    const draft = editing ? editing.draft : input.value;
    setReply(null);
    editing = { m, draft, ref: null };
    setSaving(null);
    editText.textContent = firstLine(m.text);
    editBar.hidden = false;
    form.classList.add('is-editing');
    button.setAttribute('aria-label', 'Save changes');
    input.removeAttribute('maxlength');
    input.value = m.text;
    showText(error, '');
    refresh();
    if (!input.disabled) {
      input.focus();
      input.setSelectionRange(input.value.length, input.value.length);
    }
  }

  /** Leaves editing; the draft kept aside comes back. */
  function endEdit() {
    if (!editing) return;
    input.value = editing.draft;
    input.readOnly = false;
    editing = null;
    editBar.hidden = true;
    form.classList.remove('is-editing');
    button.setAttribute('aria-label', 'Send message');
    input.maxLength = MAX_CHARS;
    showText(error, '');
    refresh();
  }

  $('edit-cancel').addEventListener('click', () => {
    endEdit();
    input.focus();
  });

  /** Saves the edit, unless the text is unchanged (then editing just ends). */
  function saveEdit() {
    if (editing.ref) return;
    const { m } = editing;
    const now = findMessage(m.channel, m.id) || m;
    const text = input.value.trim();
    if (text === now.text) {
      endEdit();
      return;
    }
    const ref = save(now, text);
    if (!ref) {
      showText(error, 'Not connected right now: your edit is kept; try again in a moment.');
      return;
    }
    showText(error, '');
    setSaving(ref);
  }

  function submit() {
    if (input.disabled) return;
    if (editing) {
      saveEdit();
      return;
    }
    const text = input.value.trim();
    if (!text) return;
    send(text, replying ? replying.id : null);
    setReply(null);
    input.value = '';
    hintsDismissed = false;
    showText(error, '');
    refresh();
  }

  input.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && !ev.shiftKey && !ev.altKey && !ev.isComposing) {
      ev.preventDefault();
      submit();
    } else if (ev.key === 'Escape' && !hints.hidden) {
      hintsDismissed = true;
      renderHints();
    } else if (ev.key === 'Escape' && editing) {
      endEdit();
    } else if (ev.key === 'Escape' && replying) {
      setReply(null);
    } else if (ev.key === 'ArrowUp' && !input.value && !editing && !ev.shiftKey && !ev.altKey && !ev.ctrlKey && !ev.metaKey) {
      const last = state.active && lastOwn(state.active);
      if (last) {
        ev.preventDefault();
        startEdit(last);
      }
    }
  });

  input.addEventListener('input', () => {
    if (!input.value.startsWith('/')) hintsDismissed = false;
    refresh();
    const now = Date.now();
    // Counted from the last notice that went (none goes before the channel is joined).
    if (!editing && input.value.trim() && now - lastTyping >= TYPING_EVERY_MS && typing()) lastTyping = now;
  });

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    submit();
    input.focus();
  });

  function renderState() {
    const { status: conn, everOpen } = state.connection;
    const closed = !!state.active && isClosed(state.active);
    const open = conn === 'open' && !!state.active && !closed;
    if (!open && document.activeElement === input) refocus = true;
    input.disabled = !open;
    button.disabled = !open;
    form.classList.toggle('is-disabled', !open);
    form.classList.toggle('is-closed', closed);
    closedLine.hidden = !closed;
    if (closed) endEdit();
    const reason = open ? '' : closed ? 'This channel is closed' : everOpen ? 'Reconnecting…' : 'Connecting…';
    // A closed channel says why on its own line.
    status.textContent = closed ? '' : reason;
    const where = state.active ? `Message ${labelOf(state.active)}` : 'Message';
    label.textContent = where;
    input.placeholder = open ? where : reason;
    if (open && refocus) {
      refocus = false;
      input.focus();
    }
  }

  return {
    render(topics) {
      if (topics.has('active')) {
        endEdit();
        showText(error, '');
        setReply(null);
      }
      if (topics.has('messages') && editing) {
        const now = findMessage(editing.m.channel, editing.m.id);
        if (now && now.deleted) showText(error, 'This message has been deleted. Escape gives back what you were writing.');
      }
      if (topics.has('connection') || topics.has('active') || topics.has('channels')) renderState();
    },
    /** Shows why a send failed; gives the text back when the box is empty. */
    sendFailed(message, text) {
      showText(error, message);
      if (text && !input.value) {
        input.value = text;
        refresh();
        return true;
      }
      return false;
    },
    clear() {
      endEdit();
      input.value = '';
      showText(error, '');
      refresh();
    },
    focus() {
      if (!input.disabled) input.focus();
    },
    /** Answers `m` with the next send. */
    replyTo(m) {
      endEdit();
      setReply(m);
      if (!input.disabled) input.focus();
    },
    /** Edits our message `m` in the box. */
    edit: startEdit,
    /** The server took the edit sent with `ref`: editing ends. */
    editSaved(ref) {
      if (editing && editing.ref === ref) endEdit();
    },
    /** The server refused the edit sent with `ref`: says why, the text stays; false when no longer edited. */
    editFailed(ref, message) {
      if (!editing || editing.ref !== ref) return false;
      setSaving(null);
      showText(error, message);
      return true;
    },
  };
}
