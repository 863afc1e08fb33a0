// How a stock quote looks wherever it is shown: prices, the change with its
// arrow, its colour and its sign spelled out for screen readers, volumes,
// and the quote card (symbol, price, change, day range, volume, when) under
// a bot reply, in a cashtag's popover and, in short, in the ticker strip.

import { h } from './dom.js';

const GROUPED = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const CENTS = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
/** Below a dollar a price keeps up to four decimals ($0.0123). */
const SMALL = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 4 });

export const isNumber = (v) => typeof v === 'number' && Number.isFinite(v);
const isText = (v) => typeof v === 'string' && v !== '';

/** $93.42, $1,234.50, $0.0123; "—" when unknown. */
export function price(v) {
  if (!isNumber(v)) return '—';
  const sign = v < 0 ? '-' : '';
  const abs = Math.abs(v);
  return `${sign}$${(abs < 1 && abs > 0 ? SMALL : CENTS).format(abs)}`;
}

/** 41,234,567; "—" when unknown (0 means the service did not say). */
export const volume = (v) => (isNumber(v) && v > 0 ? GROUPED.format(v) : '—');

/** "up", "down" or "flat" for a change in percent. */
export const direction = (pct) => (pct > 0 ? 'up' : pct < 0 ? 'down' : 'flat');

/**
 * A change in percent: the arrow and the figure as seen (green up, red
 * down), the words for screen readers ("up 1.43 percent").
 */
export function change(pct, { className = '' } = {}) {
  if (!isNumber(pct)) return h('span', { class: `change is-unknown ${className}`, text: '—' });
  const dir = direction(pct);
  const figure = `${CENTS.format(Math.abs(pct))}%`;
  const arrow = dir === 'up' ? '▲ ' : dir === 'down' ? '▼ ' : '';
  const words = dir === 'flat' ? 'unchanged' : `${dir} ${CENTS.format(Math.abs(pct))} percent`;
  return h('span', { class: `change is-${dir} ${className}` },
    h('span', { 'aria-hidden': 'true', text: `${arrow}${figure}` }),
    h('span', { class: 'visually-hidden', text: words }));
}

/** Whether `card` is a quote card the UI can show. */
export const isQuote = (card) => !!card && typeof card === 'object' && isText(card.symbol);

/** The symbol a code is shown as: `aapl.us` → AAPL.US. */
export const symbolOf = (code) => String(code).toUpperCase();

/** The day's low to high, "$91.80 – $94.00". */
function range(card) {
  if (!isNumber(card.low) || !isNumber(card.high)) return '—';
  return `${price(card.low)} – ${price(card.high)}`;
}

/** When the quote is from, as the service gave it (its own time zone). */
function when(card) {
  const date = isText(card.date) ? card.date : '';
  const time = isText(card.time) ? card.time : '';
  if (!date && !time) return null;
  const iso = /^\d{4}-\d{2}-\d{2}$/.test(date) && /^\d{2}:\d{2}(:\d{2})?$/.test(time) ? `${date}T${time}` : null;
  return h('p', { class: 'quote-when' }, 'As of ', h('time', { datetime: iso, text: [date, time].filter(Boolean).join(' ') }));
}

function fact(label, value) {
  return h('div', { class: 'quote-fact' }, h('dt', { text: label }), h('dd', { text: value }));
}

/** The card of one quote: symbol, price, change vs open, day range, open, volume and when. */
export function quoteCard(card) {
  const symbol = card.symbol;
  return h('section', { class: `quote-card is-${direction(card.change_pct)}`, 'aria-label': `${symbol} quote`, 'data-symbol': symbol },
    h('div', { class: 'quote-head' },
      h('span', { class: 'quote-symbol', text: symbol }),
      h('span', { class: 'quote-price', text: price(card.close) }),
      change(card.change_pct)),
    h('dl', { class: 'quote-facts' },
      fact('Day range', range(card)),
      fact('Open', price(card.open)),
      fact('Volume', volume(card.volume))),
    when(card));
}
