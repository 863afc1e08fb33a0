// The quote of a cashtag chip ($AAPL in a message, a code of a watchlist
// card), in a popover by the chip: hovering the chip with a mouse shows it
// while the pointer stays on the chip or the popover; a click, a tap or
// Enter keeps it open until the chip is pressed again, Escape, or a press
// elsewhere. It says "Loading…", then shows the card or why there is none.
// The popover is a live region, so a screen reader reads what it comes to
// say. One popover serves every chip of the page (found by delegation).

import { h } from './dom.js';
import { quoteCard, symbolOf } from './quote.js';

const HOVER_OPEN_MS = 150;
const HOVER_CLOSE_MS = 250;
const GAP_PX = 6;
const EDGE_PX = 8;

/** What the popover says instead of a card, from the ApiError of GET /api/quotes/{code}. */
function failure(error, symbol) {
  if (error.status === 404) return `No quote for ${symbol}`;
  if (error.status === 400) return `${symbol} is not a stock code the quote service takes`;
  if (error.code === 'busy') return 'The quote service is busy right now; try again in a moment';
  if (error.status === 503) return 'Quotes are unavailable right now';
  if (error.status === 0) return error.message;
  return `Couldn't get the ${symbol} quote: ${error.message}`;
}

/** quotes: a createQuotes() cache (quotes.js). */
export function initCashtags({ quotes }) {
  const pop = h('div', { id: 'quote-pop', class: 'quote-pop', role: 'status', 'aria-live': 'polite', hidden: true });
  document.body.append(pop);
  let chip = null; // the chip whose quote is shown
  let pinned = false; // opened by a click, a tap or a key (not by hovering)
  let asked = 0; // the newest question; older answers are dropped
  let openTimer = null;
  let closeTimer = null;

  const chipOf = (target) => (target instanceof Element ? target.closest('button.cashtag[data-code]') : null);

  function place() {
    if (!chip || !chip.isConnected) {
      close();
      return;
    }
    // Measured at the corner, so that where it was does not widen the page it is measured in.
    pop.style.left = '0px';
    pop.style.top = '0px';
    const at = chip.getBoundingClientRect();
    const width = pop.offsetWidth;
    const height = pop.offsetHeight;
    const { clientWidth, clientHeight } = document.documentElement;
    const left = Math.max(EDGE_PX, Math.min(at.left, clientWidth - width - EDGE_PX));
    let top = at.bottom + GAP_PX;
    if (top + height > clientHeight - EDGE_PX) top = Math.max(EDGE_PX, at.top - height - GAP_PX);
    pop.style.left = `${left}px`;
    pop.style.top = `${top}px`;
  }

  function show(...nodes) {
    pop.replaceChildren(...nodes);
    place();
  }

  async function open(target, byHand) {
    clearTimeout(openTimer);
    clearTimeout(closeTimer);
    if (chip === target) {
      pinned = pinned || byHand;
      return;
    }
    if (chip) chip.setAttribute('aria-expanded', 'false');
    chip = target;
    pinned = byHand;
    chip.setAttribute('aria-expanded', 'true');
    chip.setAttribute('aria-controls', pop.id);
    const code = chip.getAttribute('data-code');
    const symbol = symbolOf(code);
    const n = ++asked;
    pop.hidden = false;
    show(h('p', { class: 'quote-pop-note', text: `Loading ${symbol}…` }));
    const answer = await quotes.get(code);
    if (n !== asked || !chip) return;
    if (answer.card && typeof answer.card.symbol === 'string') show(quoteCard(answer.card));
    else show(h('p', { class: 'quote-pop-note is-error', text: failure(answer.error || {}, symbol) }));
  }

  function close() {
    clearTimeout(openTimer);
    clearTimeout(closeTimer);
    if (pop.hidden) return;
    asked += 1;
    pop.hidden = true;
    pop.replaceChildren();
    if (chip) chip.setAttribute('aria-expanded', 'false');
    chip = null;
    pinned = false;
  }

  function closeSoon() {
    clearTimeout(openTimer);
    clearTimeout(closeTimer);
    if (chip && !pinned) closeTimer = setTimeout(close, HOVER_CLOSE_MS);
  }

  document.addEventListener('pointerover', (ev) => {
    if (ev.pointerType !== 'mouse') return;
    const over = chipOf(ev.target);
    if (over) {
      clearTimeout(closeTimer);
      if (over !== chip && !pinned) {
        clearTimeout(openTimer);
        openTimer = setTimeout(() => open(over, false), HOVER_OPEN_MS);
      }
    } else if (pop.contains(ev.target)) {
      clearTimeout(closeTimer);
    }
  });
  document.addEventListener('pointerout', (ev) => {
    if (ev.pointerType !== 'mouse') return;
    const from = chipOf(ev.target) || (pop.contains(ev.target) ? pop : null);
    if (!from) return;
    const to = ev.relatedTarget;
    if (to instanceof Node && (from.contains(to) || pop.contains(to) || (chip && chip.contains(to)))) return;
    closeSoon();
  });
  document.addEventListener('click', (ev) => {
    const pressed = chipOf(ev.target);
    if (!pressed) return;
    ev.preventDefault();
    if (pressed === chip && pinned) close();
    else open(pressed, true);
  });
  document.addEventListener('pointerdown', (ev) => {
    if (!pop.hidden && !pop.contains(ev.target) && !chipOf(ev.target)) close();
  });
  document.addEventListener('keydown', (ev) => {
    if (ev.key !== 'Escape' || pop.hidden) return;
    const back = chip;
    const hadFocus = back && back === document.activeElement;
    close();
    if (hadFocus) ev.stopPropagation();
  }, true);
  // Tabbing away from the chip closes what it opened.
  document.addEventListener('focusout', (ev) => {
    const to = ev.relatedTarget;
    if (chip && ev.target === chip && to instanceof Node && !pop.contains(to)) close();
  });
  document.addEventListener('scroll', () => {
    if (!pop.hidden) place();
  }, true);
  window.addEventListener('resize', () => {
    if (!pop.hidden) place();
  });

  return { close };
}
