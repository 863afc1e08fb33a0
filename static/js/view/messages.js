// The message pane of the active channel: grouped messages with day
// separators, operator and system posts as notices, pending/failed sends,
// replies with their quoted original (a click goes to it, loading older
// history as needed), scroll anchoring, the "New messages" pill and loading
// older history when scrolled to the top. Own messages can be edited and
// deleted (after an inline confirmation); a deleted one stays as a tombstone.

import { state, channel, isMe, isOwn, original } from '../state.js';
import { firstLine } from './composer.js';
import { clock, fullDate, dayKey, dayLabel, parseTs } from '../time.js';
import { avatar } from './avatar.js';
import { $, h } from './dom.js';
import { formatted } from './format.js';

const GROUP_WINDOW_MS = 5 * 60 * 1000;
const NEAR_BOTTOM_PX = 80;
const LOAD_OLDER_PX = 150;
const TOMBSTONE = 'message deleted';
/** Posts that are neither a person's nor the bot's, by `kind`: their badge. */
const NOTICES = { operator: 'OPERATOR', system: 'SYSTEM' };

/** The notice kind of a message (`operator`, `system`), or null for people and the bot. */
const noticeOf = (m) => (Object.hasOwn(NOTICES, m.kind) ? m.kind : null);

function timeEl(d, ts, extraClass = '') {
  return h('time', { class: `msg-time ${extraClass}`, datetime: ts, title: fullDate(d), text: clock(d) });
}

/** What a reply's quote shows: its original, undefined while unknown, null when gone. */
function quoteSig(name, m) {
  if (!m.reply_to) return '';
  const q = original(name, m.reply_to);
  if (q === undefined) return '?';
  return q === null ? '-' : `${q.user}:${q.deleted ? '' : `=${firstLine(q.text)}`}`;
}

/**
 * The rows to show: day separators and messages (pending ones last).
 * `asking(id)`: what the row of message `id` asks of its author now
 * ('confirm' a deletion, 'deleting'), part of its signature.
 */
function rowsOf(name, c, asking) {
  const all = c.messages.concat(c.pending.map((p) => ({
    id: `p-${p.ref}`, user: state.me, text: p.text, ts: p.ts, bot: false, pending: p, reply_to: p.reply_to,
  })));
  const rows = [];
  let prev = null;
  let prevDay = null;
  for (const m of all) {
    const d = parseTs(m.ts);
    const day = dayKey(d);
    if (day !== prevDay) {
      rows.push({ key: `day-${day}`, day: true, d, sig: dayLabel(d) });
      prevDay = day;
      prev = null;
    }
    const grouped = !!prev && prev.m.user === m.user && !!prev.m.bot === !!m.bot
      && !noticeOf(m) && !noticeOf(prev.m)
      && !prev.m.pending?.failed && d - prev.d >= 0 && d - prev.d < GROUP_WINDOW_MS;
    const p = m.pending;
    const sig = [grouped, m.text, m.ts, !!m.bot, noticeOf(m) || '', p ? (p.failed ? `x${p.error}` : 'p') : '',
      quoteSig(name, m), m.edited_at || '', !!m.deleted, p ? '' : asking(m.id)].join('\u0000');
    rows.push({ key: m.pending ? m.id : `m-${m.id}`, m, d, grouped, sig });
    prev = { m, d };
  }
  return rows;
}

/** Pages of older history read back to find a message, at most. */
const JUMP_PAGES = 40;
/** How long going to a message may wait for its channel's history. */
const JUMP_WAIT_MS = 15000;

/**
 * edit(m): starts editing our message `m`. remove(m): sends its deletion;
 * false when it cannot go now. The answer comes back through deleteAnswered(id).
 */
export function initMessages({ loadOlder, retry, discard, reply, edit, remove, needOriginal }) {
  const scroller = $('message-scroller');
  const list = $('message-list');
  const status = $('history-status');
  const pill = $('new-pill');
  const nodes = new Map(); // key -> {node, sig}
  const keyOf = new WeakMap(); // node -> key
  let shown = null; // channel name currently rendered
  let lastKey = null;
  let firstKey = null;
  let confirming = null; // id of the message whose deletion awaits confirmation
  const deleting = new Set(); // ids of messages whose deletion awaits the server
  const asking = (id) => (id === confirming ? 'confirm' : deleting.has(id) ? 'deleting' : '');

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
        h('div', { class: 'msg-text' }, formatted(m.text))));
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

  /** Shows or hides the confirmation of deleting message `id`. */
  function confirmDelete(id) {
    confirming = id;
    render();
    if (id) nodes.get(`m-${id}`)?.node.querySelector('.msg-confirm .btn-danger')?.focus();
  }

  function deleteNow(m) {
    confirming = null;
    if (remove(m)) deleting.add(m.id);
    render();
  }

  /** The actions on a message: reply to it, and for our own edit or delete it (confirmed first). */
  function actionsOf(m) {
    if (m.id === confirming) {
      const cancel = () => {
        confirmDelete(null);
        nodes.get(`m-${m.id}`)?.node.querySelector('.msg-action')?.focus();
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
    if (deleting.has(m.id)) return h('span', { class: 'msg-state', text: 'Deleting…' });
    const own = isOwn(m);
    return h('div', { class: 'msg-actions' },
      h('button', { type: 'button', class: 'msg-action', 'aria-label': `Reply to ${m.user}`, onclick: () => reply(m), text: '↩ Reply' }),
      own ? h('button', { type: 'button', class: 'msg-action', 'aria-label': 'Edit your message', onclick: () => edit(m), text: 'Edit' }) : null,
      own ? h('button', { type: 'button', class: 'msg-action', 'aria-label': 'Delete your message', onclick: () => confirmDelete(m.id), text: 'Delete' }) : null);
  }

  /** The text of a message with its edit mark, or the tombstone of a deleted one. */
  function bodyOf(m) {
    if (m.deleted) return h('div', { class: 'msg-tombstone', text: TOMBSTONE });
    const edited = m.edited_at
      ? h('span', { class: 'msg-edited', title: `Edited ${fullDate(parseTs(m.edited_at))}`, text: '(edited)' })
      : null;
    return h('div', { class: 'msg-body' }, h('div', { class: 'msg-text' }, formatted(m.text)), edited);
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
    if (!p && !m.deleted) main.append(actionsOf(m));
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
    return buildMessage(row);
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
        if (entry) entry.node.replaceWith(node);
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
    else if (c.historyDone) text = `This is the start of #${state.active}.`;
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
      confirming = null;
      shown = name;
      lastKey = null;
      firstKey = null;
      list.setAttribute('aria-label', `Messages in #${name}`);
    }
    const rows = rowsOf(name, c, asking);
    const msgRows = rows.filter((r) => !r.day);
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
    if (switched || wasNear || (mineLast && newKey !== lastKey)) {
      scrollToBottom();
    } else if (keep && nodes.has(keep.key)) {
      // The row may have been rebuilt (e.g. it joined a group): find it by key.
      scroller.scrollTop = nodes.get(keep.key).node.offsetTop - keep.offset;
      if (grew && !nearBottom()) pill.hidden = false;
    }
    lastKey = newKey;
    requestAnimationFrame(maybeLoadOlder);
  }

  // A long press (touch) shows a message's actions; another hides them.
  list.addEventListener('contextmenu', (ev) => {
    const row = ev.target.closest && ev.target.closest('.msg');
    if (!row || ev.target.closest('a')) return;
    ev.preventDefault();
    for (const other of list.querySelectorAll('.msg.show-actions')) if (other !== row) other.classList.remove('show-actions');
    row.classList.toggle('show-actions');
  });

  scroller.addEventListener('scroll', () => {
    if (nearBottom()) pill.hidden = true;
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
    /** The server answered the deletion of message `id` (the row shows what it is now). */
    deleteAnswered(id) {
      if (deleting.delete(id)) render();
    },
    render(topics) {
      if (topics.has('messages') || topics.has('active') || topics.has('history')) render();
    },
    reset() {
      list.replaceChildren();
      nodes.clear();
      confirming = null;
      deleting.clear();
      shown = null;
      lastKey = null;
      firstKey = null;
      pill.hidden = true;
      status.textContent = '';
    },
  };
}
