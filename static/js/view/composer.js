// The message composer: Enter sends, Shift+Enter adds a line, a counter near
// the 2000-character limit, throttled typing notices, command hints for "/",
// the message being replied to (Escape cancels), disabled with a visible
// reason while the socket is not open.

import { state } from '../state.js';
import { $, h, showText } from './dom.js';

const MAX_CHARS = 2000;
const COUNTER_FROM = 1800;
const TYPING_EVERY_MS = 2000;
const MAX_ROWS = 8;

const COMMANDS = [
  { fill: '/stock=', name: '/stock=CODE', about: 'get a stock quote (e.g. /stock=aapl.us)' },
  { fill: '/help', name: '/help', about: 'list commands' },
];

/** The first line of a message's text, for a one-line quote. */
export const firstLine = (text) => text.split('\n', 1)[0];

/**
 * send(text, replyTo): queue a message for the active channel (a reply to
 * the message id `replyTo`, or null). typing(): notify others.
 */
export function initComposer({ send, typing }) {
  const form = $('composer');
  const input = $('composer-input');
  const button = $('composer-send');
  const status = $('composer-status');
  const counter = $('composer-counter');
  const hints = $('command-hints');
  const error = $('composer-error');
  const label = $('composer-label');
  const replyBar = $('reply-bar');
  const replyText = $('reply-bar-text');
  let replying = null; // the message being answered
  let lastTyping = 0;
  let hintsDismissed = false;
  let refocus = false;

  function renderHints() {
    const value = input.value;
    const word = value.split(/[=\s]/)[0];
    const show = !hintsDismissed && value.startsWith('/') && !/\s/.test(value);
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

  function submit() {
    const text = input.value.trim();
    if (!text || input.disabled) return;
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
    } else if (ev.key === 'Escape' && replying) {
      setReply(null);
    }
  });

  input.addEventListener('input', () => {
    if (!input.value.startsWith('/')) hintsDismissed = false;
    refresh();
    const now = Date.now();
    if (input.value.trim() && now - lastTyping >= TYPING_EVERY_MS) {
      lastTyping = now;
      typing();
    }
  });

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    submit();
    input.focus();
  });

  function renderState() {
    const { status: conn, everOpen } = state.connection;
    const open = conn === 'open' && !!state.active;
    if (!open && document.activeElement === input) refocus = true;
    input.disabled = !open;
    button.disabled = !open;
    form.classList.toggle('is-disabled', !open);
    const reason = open ? '' : everOpen ? 'Reconnecting…' : 'Connecting…';
    status.textContent = reason;
    const where = state.active ? `Message #${state.active}` : 'Message';
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
        showText(error, '');
        setReply(null);
      }
      if (topics.has('connection') || topics.has('active')) renderState();
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
      input.value = '';
      showText(error, '');
      refresh();
    },
    focus() {
      if (!input.disabled) input.focus();
    },
    /** Answers `m` with the next send. */
    replyTo(m) {
      setReply(m);
      if (!input.disabled) input.focus();
    },
  };
}
