// Search: the box in the top bar and the results over the message pane, each
// with its channel, author, time and text (the words found marked); a click
// opens the channel at that message. Older results come page by page.

import { fullDate, parseTs, dayLabel, clock } from '../time.js';
import { $, h } from './dom.js';
import { labelOf } from '../rooms.js';

/** Results asked for at once (the server's default page). */
const PAGE = 20;

/** `text` with each whole-word, case-insensitive match of `words` in a <mark>. */
function marked(text, words) {
  const wanted = new Set(words.map((w) => w.toLowerCase()));
  const parts = [];
  let last = 0;
  for (const match of text.matchAll(/[\p{L}\p{N}]+/gu)) {
    if (!wanted.has(match[0].toLowerCase())) continue;
    parts.push(text.slice(last, match.index), h('mark', { text: match[0] }));
    last = match.index + match[0].length;
  }
  parts.push(text.slice(last));
  return parts;
}

/** The words of a query, as the server takes them. */
const wordsOf = (q) => q.match(/[\p{L}\p{N}]+/gu) || [];

/**
 * search(q, before): a page of messages, newest first. open(channel, id):
 * shows that message in its channel.
 */
export function initSearch({ search, open }) {
  const form = $('search-form');
  const input = $('search-input');
  const panel = $('search-panel');
  const title = $('search-title');
  const list = $('search-results');
  const status = $('search-status');
  const more = $('search-more');
  let current = null; // { q, words, last }

  function hit(m, words) {
    const d = parseTs(m.ts);
    return h('li', {},
      h('button', {
        type: 'button',
        class: 'search-hit',
        onclick: () => {
          close();
          open(m.channel, m.id);
        },
      },
      h('span', { class: 'hit-where', text: labelOf(m.channel) }),
      h('span', { class: 'hit-author', text: m.user }),
      h('time', { class: 'hit-time', datetime: m.ts, title: fullDate(d), text: `${dayLabel(d)} ${clock(d)}` }),
      h('span', { class: 'hit-text' }, marked(m.text, words))));
  }

  async function run(asked) {
    status.textContent = 'Searching…';
    more.hidden = true;
    let found;
    try {
      found = await search(asked.q, asked.last);
    } catch (err) {
      if (current === asked) status.textContent = `Search failed: ${err.message}`;
      return;
    }
    if (current !== asked) return; // a newer search, or closed
    list.append(...found.map((m) => hit(m, asked.words)));
    if (found.length) asked.last = found[found.length - 1].id;
    status.textContent = list.children.length ? '' : `No messages match “${asked.q}”.`;
    more.hidden = found.length < PAGE;
  }

  function close() {
    current = null;
    panel.hidden = true;
    list.replaceChildren();
  }

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const q = input.value.trim();
    if (!wordsOf(q).length) return;
    current = { q, words: wordsOf(q), last: null };
    list.replaceChildren();
    title.textContent = `Results for “${q}”`;
    panel.hidden = false;
    run(current);
  });
  input.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape' && current) close();
  });
  more.addEventListener('click', () => current && run(current));
  $('search-close').addEventListener('click', () => {
    close();
    input.focus();
  });

  return { close };
}
