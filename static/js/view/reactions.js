// Reactions under a message: a chip per emoji given, with how many gave it
// (pressed when one of them is us; who they are on hover, focus or a long
// press), and the picker of the emoji people may give, opened from a
// message's "Add reaction" action.

import { state, isMe } from '../state.js';
import { h } from './dom.js';

/** Emoji per row of the picker (arrow keys move by these). */
const PICKER_COLUMNS = 8;
const GAP_PX = 4;
const EDGE_PX = 8;

/** The emoji given to `m`, in the order first given, each with who gave it. */
function reactionsOf(m) {
  const r = m.reactions;
  if (!r || typeof r !== 'object' || Array.isArray(r)) return [];
  return Object.entries(r).filter(([, who]) => Array.isArray(who) && who.length);
}

/** Whether we gave `emoji` to `m`. */
const gave = (m, emoji) => reactionsOf(m).some(([e, who]) => e === emoji && who.some(isMe));

/** What the chips of `m` show, as a string that changes when they do. */
export const reactionsSig = (m) => reactionsOf(m).map(([e, who]) => `${e}=${who.join(',')}`).join(';');

/**
 * The chips under message `m`, or null when it has none. Clicking one
 * gives our reaction or takes it back: toggle(m, emoji, on).
 */
export function chipsOf(m, toggle) {
  const given = reactionsOf(m);
  if (!given.length) return null;
  return h('div', { class: 'msg-reactions', role: 'group', 'aria-label': 'Reactions' }, given.map(([emoji, who]) => {
    const mine = who.some(isMe);
    const names = who.join(', ');
    const item = h('span', { class: 'reaction-item' });
    const chip = h('button', {
      type: 'button',
      class: 'reaction',
      'aria-pressed': String(mine),
      'aria-label': `${emoji} ${who.length}: ${names}`,
      title: names,
      'data-focus': `reaction-${emoji}`,
      onclick: () => toggle(m, emoji, !mine),
      // A long press shows who (the message list's onLongPress); another hides it.
    }, h('span', { class: 'reaction-emoji', text: emoji }), ' ', h('span', { class: 'reaction-count', text: String(who.length) }));
    item.append(chip, h('span', { class: 'reaction-who', 'aria-hidden': 'true', text: names }));
    return item;
  }));
}

/**
 * The emoji picker, one for the page. open(button, m, toggle) shows it by
 * the button that asked, with the emoji of `state.emoji`; choosing one
 * gives it to `m` (or takes ours back): toggle(m, emoji, on). Escape, a
 * click elsewhere or leaving it with Tab closes it; Escape and a choice
 * give the focus back to the button. It follows the button when the
 * messages scroll.
 */
export function initPicker() {
  const box = h('div', { class: 'reaction-picker', role: 'dialog', 'aria-label': 'Add a reaction', hidden: true });
  document.body.append(box);
  let opener = null;

  function close(refocus = false) {
    if (box.hidden) return;
    box.hidden = true;
    box.replaceChildren();
    const back = opener;
    opener = null;
    if (refocus && back && back.isConnected) back.focus();
  }

  /** Puts the box below the button, or above it when there is no room below, inside the window. */
  function place(button) {
    const at = button.getBoundingClientRect();
    const width = box.offsetWidth;
    const height = box.offsetHeight;
    const left = Math.max(EDGE_PX, Math.min(at.right - width, window.innerWidth - width - EDGE_PX));
    let top = at.bottom + GAP_PX;
    if (top + height > window.innerHeight - EDGE_PX) top = Math.max(EDGE_PX, at.top - height - GAP_PX);
    box.style.left = `${left}px`;
    box.style.top = `${top}px`;
  }

  function open(button, m, toggle) {
    if (!state.emoji.length) return;
    const again = !box.hidden && opener === button;
    close(again);
    if (again) return;
    opener = button;
    box.replaceChildren(...state.emoji.map((emoji) => h('button', {
      type: 'button',
      class: 'picker-emoji',
      'aria-label': `React with ${emoji}`,
      'aria-pressed': String(gave(m, emoji)),
      title: emoji,
      text: emoji,
      onclick: () => {
        close(true);
        toggle(m, emoji, !gave(m, emoji));
      },
    })));
    box.hidden = false;
    place(button);
    box.firstElementChild.focus();
  }

  box.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') {
      ev.preventDefault();
      ev.stopPropagation();
      close(true);
      return;
    }
    const step = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: PICKER_COLUMNS, ArrowUp: -PICKER_COLUMNS }[ev.key];
    if (!step) return;
    const buttons = [...box.children];
    const i = buttons.indexOf(document.activeElement);
    const next = buttons[i + step];
    ev.preventDefault();
    if (next) next.focus();
  });
  box.addEventListener('focusout', (ev) => {
    if (!box.hidden && !box.contains(ev.relatedTarget) && ev.relatedTarget !== opener && ev.relatedTarget) close();
  });
  document.addEventListener('pointerdown', (ev) => {
    if (!box.hidden && !box.contains(ev.target) && !(opener && opener.contains(ev.target))) close();
  });
  document.addEventListener('scroll', () => {
    if (box.hidden) return;
    if (opener && opener.isConnected) place(opener);
    else close();
  }, true);
  window.addEventListener('resize', () => close());

  return { open, close };
}
