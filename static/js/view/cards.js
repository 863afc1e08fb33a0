// What a bot reply carries besides its text (`card`), drawn under the text:
// a quote card, a row of them, a price chart, or the channel's watchlist
// after a change. A card the UI does not know, or one it cannot read, is
// left out: the text says the same in words.

import { h } from './dom.js';
import { cashtagChip } from './format.js';
import { lineChart } from './chart.js';
import { change, isNumber, isQuote, price, quoteCard } from './quote.js';

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** The [date, close] points of a chart card that can be drawn, oldest first. */
function pointsOf(card) {
  if (!Array.isArray(card.points)) return [];
  return card.points.filter((p) => Array.isArray(p) && typeof p[0] === 'string' && isNumber(p[1]));
}

/** A price chart: symbol, first and last price and date, the change, the line. */
function chartCard(card) {
  const points = pointsOf(card);
  if (!points.length || typeof card.symbol !== 'string') return null;
  const [firstDate, first] = points[0];
  const [lastDate, last] = points[points.length - 1];
  const pct = first ? Math.round(((last - first) / first) * 10000) / 100 : null;
  const moved = pct === null ? '' : pct > 0 ? `, up ${pct.toFixed(2)} percent` : pct < 0 ? `, down ${Math.abs(pct).toFixed(2)} percent` : ', unchanged';
  const count = points.length === 1 ? '1 closing price' : `${points.length} closing prices`;
  const label = `${card.symbol} chart, ${count} from ${firstDate} to ${lastDate}: ${price(first)} to ${price(last)}${moved}`;
  const values = points.map((p) => p[1]);
  const dir = pct > 0 ? 'up' : pct < 0 ? 'down' : 'flat';
  const dateEl = (d) => h('time', { datetime: DATE.test(d) ? d : null, text: d });
  return h('figure', { class: `chart-card is-${dir}`, 'data-symbol': card.symbol },
    h('figcaption', { class: 'chart-head' },
      h('span', { class: 'quote-symbol', text: card.symbol }),
      h('span', { class: 'quote-price chart-last', text: price(last) }),
      change(pct)),
    lineChart(values, { label }),
    h('div', { class: 'chart-ends' },
      h('span', { class: 'chart-end chart-first-end' }, h('span', { class: 'chart-end-price', text: price(first) }), ' ', dateEl(firstDate)),
      h('span', { class: 'chart-end chart-last-end' }, dateEl(lastDate), ' ', h('span', { class: 'chart-end-price', text: price(last) }))),
    h('p', { class: 'chart-range', text: `Low ${price(Math.min(...values))} · High ${price(Math.max(...values))}` }));
}

/** The channel's watchlist after a change: its codes as chips, or that it is empty. */
function watchlistCard(card) {
  const codes = Array.isArray(card.codes) ? card.codes.filter((c) => typeof c === 'string' && c) : [];
  return h('div', { class: 'watchlist-card' },
    h('span', { class: 'watchlist-label', text: codes.length ? 'Watchlist:' : 'The watchlist is empty.' }),
    codes.map((code) => cashtagChip(code.toUpperCase(), code.toLowerCase())));
}

/** What of `m.card` changes its row (a card never changes once sent, but may come with the message later). */
export const cardSig = (m) => (m.card && typeof m.card === 'object' ? String(m.card.kind) : '');

/** The node of message `m`'s card, or null when it has none the UI can show. */
export function cardOf(m) {
  const card = m.card;
  if (!card || typeof card !== 'object') return null;
  switch (card.kind) {
    case 'quote':
      return isQuote(card) ? h('div', { class: 'msg-card' }, quoteCard(card)) : null;
    case 'quotes': {
      const quotes = Array.isArray(card.quotes) ? card.quotes.filter(isQuote) : [];
      return quotes.length ? h('div', { class: 'msg-card quote-row' }, quotes.map(quoteCard)) : null;
    }
    case 'chart': {
      const chart = chartCard(card);
      return chart && h('div', { class: 'msg-card' }, chart);
    }
    case 'watchlist':
      return h('div', { class: 'msg-card' }, watchlistCard(card));
    default:
      return null;
  }
}
