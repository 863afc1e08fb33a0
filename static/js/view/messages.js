// The message pane of the active channel: grouped messages with day
// separators, operator and system posts as notices, pending/failed sends,
// replies with their quoted original (a click goes to it, loading older
// history as needed), reactions, mentions of us highlighted, the "New"
// line above what was unread when the channel was opened, scroll
// anchoring, the "New messages ↓" pill (new messages below while scrolled
// up) and loading older history when scrolled to the top. A deleted
// message stays as a tombstone. A bot reply's card (a quote, a chart, a
// watchlist) goes under its text.

import { state, channel, isMe, original } from '../state.js';
import { isDm, labelOf, peerOf } from '../rooms.js';
import { firstLine } from './composer.js';
import { clock, fullDate, parseTs } from '../time.js';
import { avatar } from './avatar.js';
import { $, h, onLongPress } from './dom.js';
import { formatted } from './format.js';
import { cardOf } from './cards.js';
import { initActions } from './actions.js';
import { chipsOf, initPicker } from './reactions.js';
import { DIVIDER_KEY, NOTICES, mentioning, noticeOf, rowsOf } from './rows.js';

const NEAR_BOTTOM_PX = 80;
const LOAD_OLDER_PX = 150;
const TOMBSTONE = 'message deleted';
/** Room left above the "New" line when the pane scrolls to it. */
const DIVIDER_MARGIN_PX = 24;

function timeEl(d, ts, extraClass = '') {
  return h('time', { class: `msg-time ${extraClass}`, datetime: ts, title: fullDate(d), text: clock(d) });
}

/** Pages of older history read back to find a message, at most. */
const JUMP_PAGES = 40;
/** How long going to a message may wait for its channel's history. */
const JUMP_WAIT_MS = 15000;

/**
 * edit(m): starts editing our message `m`. remove(m): sends its deletion;
 * false when it cannot go now. The answer comes back through deleteAnswered(id).
 * react(m, emoji, on): gives our reaction or takes it back. seeBottom(): the
 * newest message may have come into view.
 */
export function initMessages({ loadOlder, retry, discard, reply, edit, remove, react, needOriginal, seeBottom }) {
  const scroller = $('message-scroller');
  const list = $('message-list');
  const status = $('history-status');
  const pill = $('new-pill');
  const nodes = new Map(); // key -> {node, sig}
  const keyOf = new WeakMap(); // node -> key
  let shown = null; // channel name currently rendered
  let lastKey = null;
  let firstKey = null;
  let divider = null; // the "New" line's node, once scrolled to
  const picker = initPicker();
  const actions = initActions({
    react: (button, m) => picker.open(button, m, react),
    reply,
    edit,
    remove,
    rerender: () => render(),
    rowOf: (id) => nodes.get(`m-${id}`)?.node || null,
  });

  const nearBottom = () =>
    scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < NEAR_BOTTOM_PX;

  function scrollToBottom() {
    scroller.scrollTop = scroller.scrollHeight;
    pill.hidden = true;
  }

  /** An operator's or the system's post: a banner-like row with its badge, never grouped. */
  function buildNotice(row, kind) {
    const { m, d } = row;
    return h('li', { class: `msg is-notice is-${kind}`, 'data-id': m.id, 'data-kind': kind },
      h('div', { class: 'msg-gutter' }, h('span', { class: 'notice-icon', 'aria-hidden': 'true', text: kind === 'system' ? 'i' : '!' })),
      h('div', { class: 'msg-main' },
        h('div', { class: 'msg-head' },
          h('span', { class: 'notice-badge', text: NOTICES[kind] }),
          h('span', { class: 'msg-author', text: m.user }),
          timeEl(d, m.ts)),
        h('div', { class: 'msg-text' }, formatted(m.text)),
        m.deleted ? null : chipsOf(m, react)));
  }

  /**
   * Scrolls to message `id` of channel `name` and marks it, once the channel
   * is loaded, reading older history until it is there; whether it was found.
   */
  async function jumpTo(name, id) {
    const deadline = Date.now() + JUMP_WAIT_MS;
    let pages = 0;
    while (state.active === name && Date.now() < deadline) {
      const entry = nodes.get(`m-${id}`);
      if (entry) {
        entry.node.scrollIntoView({ block: 'center' });
        entry.node.classList.add('is-highlight');
        setTimeout(() => entry.node.classList.remove('is-highlight'), 2000);
        return true;
      }
      const c = channel(name);
      if (c.loaded && (c.historyDone || pages >= JUMP_PAGES)) return false;
      if (c.loaded && !c.loadingOlder) {
        pages += 1;
        await loadOlder(name);
      }
      await new Promise((done) => setTimeout(done, 30)); // rendered
    }
    return false;
  }

  /** The quoted original above a reply: its author and first line. */
  function quoteOf(m) {
    const name = state.active;
    const q = original(name, m.reply_to);
    if (q === undefined) needOriginal(name, m.reply_to);
    const line = q && (q.deleted ? TOMBSTONE : firstLine(q.text));
    const what = q ? `${q.user}: ${line}` : q === null ? 'Original message unavailable' : 'Loading…';
    return h('button', {
      type: 'button',
      class: 'msg-quote',
      title: 'Show the original message',
      'aria-label': `In reply to ${what}. Show the original message.`,
      onclick: () => jumpTo(name, m.reply_to),
    }, q ? [h('span', { class: 'quote-author', text: q.user }),
      h('span', { class: q.deleted ? 'quote-text is-deleted' : 'quote-text', text: line })]
      : h('span', { class: 'quote-text', text: what }));
  }

  /** The text of a message with its edit mark, or the tombstone of a deleted one. */
  function bodyOf(m) {
    if (m.deleted) return h('div', { class: 'msg-tombstone', text: TOMBSTONE });
    const edited = m.edited_at
      ? h('span', { class: 'msg-edited', title: `Edited ${fullDate(parseTs(m.edited_at))}`, text: '(edited)' })
      : null;
    const text = formatted(m.text, { mentions: m.mentions, me: state.me });
    return h('div', { class: 'msg-body' }, h('div', { class: 'msg-text' }, text), edited);
  }

  function buildMessage(row) {
    const { m, d, grouped } = row;
    const kind = noticeOf(m);
    if (kind) return buildNotice(row, kind);
    const p = m.pending;
    const classes = ['msg'];
    if (grouped) classes.push('is-grouped');
    if (m.bot) classes.push('is-bot');
    if (isMe(m.user)) classes.push('is-mine');
    if (p) classes.push(p.failed ? 'is-failed' : 'is-pending');
    if (m.deleted) classes.push('is-deleted');
    if (mentioning(m)) classes.push('is-mention');
    const gutter = h('div', { class: 'msg-gutter' }, grouped ? timeEl(d, m.ts, 'msg-time-hover') : avatar(m.user));
    const main = h('div', { class: 'msg-main' });
    if (!grouped) {
      main.append(h('div', { class: 'msg-head' },
        h('span', { class: 'msg-author', text: m.user }),
        m.bot ? h('span', { class: 'bot-badge', text: 'BOT' }) : null,
        timeEl(d, m.ts)));
    }
    if (m.reply_to && !m.deleted) main.append(quoteOf(m));
    main.append(bodyOf(m));
    const card = m.deleted ? null : cardOf(m);
    if (card) main.append(card);
    if (!p && !m.deleted) {
      const chips = chipsOf(m, react);
      if (chips) main.append(chips);
      main.append(actions.actionsOf(m));
    }
    if (p && !p.failed) main.append(h('span', { class: 'msg-state', text: 'Sending…' }));
    if (p && p.failed) {
      main.append(h('div', { class: 'msg-failed', role: 'alert' },
        h('span', { text: p.unsure ? p.error : `Not sent: ${p.error || 'unknown error'}` }),
        h('button', { type: 'button', class: 'link-btn', onclick: () => retry(state.active, p), text: 'Retry' }),
        h('button', { type: 'button', class: 'link-btn', onclick: () => discard(p.ref), text: 'Discard' })));
    }
    return h('li', { class: classes.join(' '), 'data-id': p ? '' : m.id }, gutter, main);
  }

  function build(row) {
    if (row.day) {
      return h('li', { class: 'day-sep' }, h('span', { class: 'day-label', text: row.sig }));
    }
    if (row.divider) {
      return h('li', { class: 'unread-divider', role: 'separator', 'aria-label': 'New messages since you last read' },
        h('span', { class: 'unread-divider-label', 'aria-hidden': 'true', text: 'New messages' }));
    }
    return buildMessage(row);
  }

  /** Replaces a row's node, keeping the focus on the same control when it had it (e.g. a reaction chip). */
  function replaceNode(old, node) {
    const focused = old.contains(document.activeElement) ? document.activeElement.getAttribute('data-focus') : null;
    old.replaceWith(node);
    if (focused) node.querySelector(`[data-focus="${CSS.escape(focused)}"]`)?.focus({ preventScroll: true });
  }

  function reconcile(rows) {
    const wanted = new Set(rows.map((r) => r.key));
    for (const [key, entry] of nodes) {
      if (!wanted.has(key)) {
        entry.node.remove();
        nodes.delete(key);
      }
    }
    rows.forEach((row, i) => {
      let entry = nodes.get(row.key);
      if (!entry || entry.sig !== row.sig) {
        const node = build(row);
        keyOf.set(node, row.key);
        if (entry) replaceNode(entry.node, node);
        entry = { node, sig: row.sig };
        nodes.set(row.key, entry);
      }
      const at = list.children[i] || null;
      if (at !== entry.node) list.insertBefore(entry.node, at);
    });
  }

  /**
   * The first message visible at the top (its row key) and its offset from
   * the top. Day separators are skipped: prepended history goes after them.
   */
  function anchor() {
    for (const node of list.children) {
      if (node.classList.contains('msg') && node.offsetTop + node.offsetHeight > scroller.scrollTop) {
        return { key: keyOf.get(node), offset: node.offsetTop - scroller.scrollTop };
      }
    }
    return null;
  }

  function renderStatus(c) {
    let text = '';
    if (!c.loaded) text = 'Loading messages…';
    else if (c.loadingOlder) text = 'Loading older messages…';
    else if (c.historyDone) {
      text = isDm(state.active) ? `This is the start of your conversation with ${peerOf(state.active)}.`
        : `This is the start of #${state.active}.`;
    }
    status.textContent = text;
    status.classList.toggle('is-start', c.loaded && c.historyDone && !c.loadingOlder);
  }

  function maybeLoadOlder() {
    const name = state.active;
    if (!name) return;
    const c = channel(name);
    if (c.loaded && !c.historyDone && !c.loadingOlder && c.messages.length
      && scroller.scrollTop < LOAD_OLDER_PX) {
      loadOlder(name);
    }
  }

  function render() {
    const name = state.active;
    if (!name) return;
    const c = channel(name);
    const switched = name !== shown;
    const wasNear = nearBottom();
    const keep = switched || wasNear ? null : anchor();
    if (switched) {
      list.replaceChildren();
      nodes.clear();
      actions.leave();
      picker.close();
      divider = null;
      shown = name;
      lastKey = null;
      firstKey = null;
      list.setAttribute('aria-label', `Messages in ${labelOf(name)}`);
    }
    const rows = rowsOf(name, c, actions.asking);
    const msgRows = rows.filter((r) => r.m);
    const newFirst = msgRows.length ? msgRows[0].key : null;
    // Switching channels, loading history or prepending it is not news.
    const quiet = switched || (newFirst !== firstKey && (firstKey !== null || msgRows.length > 1));
    if (quiet) list.setAttribute('aria-live', 'off');
    reconcile(rows);
    renderStatus(c);
    if (quiet) requestAnimationFrame(() => list.setAttribute('aria-live', 'polite'));
    firstKey = newFirst;

    const last = rows.length ? rows[rows.length - 1] : null;
    const newKey = last && !last.day ? last.key : null;
    const grew = newKey !== null && lastKey !== null && newKey !== lastKey && !isMe(last.m.user);
    const mineLast = last && last.m && last.m.pending && !last.m.pending.failed;
    const line = nodes.get(DIVIDER_KEY)?.node || null;
    const lineNew = line !== null && line !== divider;
    divider = line;
    if (lineNew && (switched || wasNear)) {
      // What was unread when the channel was opened starts below the line: it goes in view.
      scroller.scrollTop = Math.max(0, line.offsetTop - DIVIDER_MARGIN_PX);
    } else if (switched || wasNear || (mineLast && newKey !== lastKey)) {
      scrollToBottom();
    } else if (keep && nodes.has(keep.key)) {
      // The row may have been rebuilt (e.g. it joined a group): find it by key.
      scroller.scrollTop = nodes.get(keep.key).node.offsetTop - keep.offset;
      if (grew && !nearBottom()) pill.hidden = false;
    }
    lastKey = newKey;
    if (nearBottom()) seeBottom();
    requestAnimationFrame(maybeLoadOlder);
  }

  // A long press on a reaction shows who gave it, elsewhere on a message
  // its actions; another hides them. A link keeps the browser's own menu.
  onLongPress(list, (target) => {
    const item = target.closest && target.closest('.reaction-item');
    if (item) {
      item.classList.toggle('show-who');
      return true;
    }
    const row = target.closest && target.closest('.msg');
    if (!row || target.closest('a')) return false;
    for (const other of list.querySelectorAll('.msg.show-actions')) if (other !== row) other.classList.remove('show-actions');
    row.classList.toggle('show-actions');
    return true;
  });

  scroller.addEventListener('scroll', () => {
    if (nearBottom()) {
      pill.hidden = true;
      seeBottom();
    }
    maybeLoadOlder();
  }, { passive: true });

  pill.addEventListener('click', () => {
    const far = scroller.scrollHeight - scroller.scrollTop > 3 * scroller.clientHeight;
    scroller.scrollTo({ top: scroller.scrollHeight, behavior: far ? 'instant' : 'smooth' });
    pill.hidden = true;
    scroller.focus({ preventScroll: true });
  });

  return {
    jumpTo,
    /** Whether the newest message of the open channel is in view (the list is scrolled to its end). */
    atBottom: () => !!state.active && shown === state.active && nearBottom(),
    /** The server answered the deletion of message `id` (the row shows what it is now). */
    deleteAnswered(id) {
      if (actions.deleteAnswered(id)) render();
    },
    render(topics) {
      if (topics.has('messages') || topics.has('active') || topics.has('history')) render();
    },
    reset() {
      list.replaceChildren();
      nodes.clear();
      actions.reset();
      picker.close();
      divider = null;
      shown = null;
      lastKey = null;
      firstKey = null;
      pill.hidden = true;
      status.textContent = '';
    },
  };
}
