// The ticker strip under the channel header: the open channel's watchlist
// (GET /api/channels/{name}/watchlist), each code with its price and change,
// hidden while the list is empty. It is read again every minute while the
// channel is open, when another channel is opened (showing what was last
// read of it meanwhile), after a rejoin, and at once when the bot says the
// list changed (a message with a `watchlist` card). Each code is a chip that
// shows its whole quote card (cashtag.js).

import { state } from '../state.js';
import { labelOf } from '../rooms.js';
import { $, h } from './dom.js';
import { change, isQuote, price } from './quote.js';

const REFRESH_MS = 60000;
/** A rejoin reads the list again unless it was read this recently. */
const FRESH_MS = 5000;

/**
 * watchlist(name) resolves with {codes, quotes} or throws an ApiError;
 * quotes: the page's quote cache (quotes.js), given what the list brings.
 */
export function initTicker({ watchlist, quotes }) {
  const strip = $('ticker');
  const list = $('ticker-list');
  const lists = new Map(); // channel -> {codes, quotes: Map(code -> card)}
  const askedAt = new Map(); // channel -> when it was last asked for
  let asked = 0;
  let shown = null;

  function draw() {
    const name = state.active;
    const entry = name ? lists.get(name) : null;
    const codes = entry ? entry.codes : [];
    strip.hidden = codes.length === 0;
    strip.setAttribute('aria-label', name ? `Watchlist of ${labelOf(name)}` : 'Watchlist');
    list.replaceChildren(...codes.map((code) => {
      const card = entry.quotes.get(code);
      const symbol = card ? card.symbol : code.toUpperCase();
      return h('li', { class: 'ticker-entry' },
        h('button', {
          type: 'button',
          class: `cashtag ticker-item${card ? '' : ' is-missing'}`,
          'data-code': code,
          'aria-expanded': 'false',
        },
        h('span', { class: 'ticker-symbol', text: symbol }),
        card ? h('span', { class: 'ticker-price', text: price(card.close) }) : h('span', { class: 'ticker-price', 'aria-hidden': 'true', text: '—' }),
        card ? change(card.change_pct, { className: 'ticker-change' }) : h('span', { class: 'visually-hidden', text: 'no quote' })));
    }));
    shown = name;
  }

  /** Keeps what the server said of `name`'s list. */
  function keep(name, codes, cards) {
    const byCode = new Map();
    for (const card of cards) {
      if (!isQuote(card)) continue;
      const code = codes.find((c) => c.toLowerCase() === card.symbol.toLowerCase());
      if (code) {
        byCode.set(code, card);
        quotes.remember(code.toLowerCase(), card);
      }
    }
    lists.set(name, { codes, quotes: byCode });
  }

  async function refresh(name) {
    if (!name || !state.me) return;
    const n = ++asked;
    askedAt.set(name, Date.now());
    let answer;
    try {
      answer = await watchlist(name);
    } catch (err) {
      if (n !== asked) return;
      if (err && err.status === 404) lists.delete(name); // gone, or not ours to read
      else return; // keep what is shown until the next time
      if (state.active === name) draw();
      return;
    }
    if (n !== asked) return;
    keep(name, answer.codes, answer.quotes);
    if (state.active === name) draw();
  }

  setInterval(() => {
    if (state.me && state.active && !document.hidden && state.connection.status === 'open') refresh(state.active);
  }, REFRESH_MS);

  return {
    render(topics) {
      if (!topics.has('active') || state.active === shown) return;
      draw();
      refresh(state.active);
    },
    /** A message arrived: when it changes a watchlist, the strip shows it at once and reads the quotes. */
    message(m) {
      const card = m && m.bot && m.card;
      if (!card || card.kind !== 'watchlist' || !Array.isArray(card.codes)) return;
      const codes = card.codes.filter((c) => typeof c === 'string' && c);
      const before = lists.get(m.channel);
      lists.set(m.channel, { codes, quotes: before ? before.quotes : new Map() });
      if (state.active !== m.channel) return;
      draw();
      refresh(m.channel);
    },
    /** A channel was (re)joined: what changed meanwhile is read, unless just read. */
    joined(name) {
      if (name === state.active && Date.now() - (askedAt.get(name) || 0) > FRESH_MS) refresh(name);
    },
    reset() {
      asked += 1;
      lists.clear();
      askedAt.clear();
      shown = null;
      strip.hidden = true;
      list.replaceChildren();
    },
  };
}
