// Element construction for the views. Text always goes in as text nodes or
// textContent, never as markup.

/**
 * h('button', {class: 'x', type: 'button', onclick: fn}, 'label', child…)
 * Props: `class`, `text`, `on<event>` listeners, booleans as present/absent
 * attributes, anything else as a string attribute.
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'text') el.textContent = value;
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) el.append(child);
  }
  return el;
}

export const $ = (id) => document.getElementById(id);

/** A stroked SVG icon of path `d` (a 24×24 box) drawn `size` pixels wide, hidden from screen readers. */
export function svgIcon(d, size) {
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('width', String(size));
  svg.setAttribute('height', String(size));
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  const path = document.createElementNS('http://www.w3.org/2000/svg', 'path');
  path.setAttribute('d', d);
  path.setAttribute('class', 'icon-stroke');
  svg.append(path);
  return svg;
}

/** Shows or hides an inline message element (error or hint). */
export function showText(el, text) {
  el.textContent = text || '';
  el.hidden = !text;
}

/** How long a touch is held, still, to be a long press. */
const LONG_PRESS_MS = 500;
/** How far a touch may move and still be a press (not a scroll), in pixels. */
const PRESS_SLOP_PX = 10;

/**
 * Calls `handler(target)` on a long press inside `root` (a touch held still
 * for half a second), and on a `contextmenu` event (a right click, or a long
 * press in browsers that fire one for it), once per press. The click a long
 * press ends with is swallowed, so it does not also act as a tap. When the
 * handler returns false the press was not for it (the browser's own menu
 * stays).
 */
export function onLongPress(root, handler) {
  let timer = null;
  let start = null;
  let pressedAt = 0;
  const cancel = () => {
    clearTimeout(timer);
    timer = null;
  };
  const justPressed = () => Date.now() - pressedAt < 1500;
  root.addEventListener('pointerdown', (ev) => {
    if (ev.pointerType !== 'touch') return;
    cancel();
    start = { x: ev.clientX, y: ev.clientY, target: ev.target };
    timer = setTimeout(() => {
      timer = null;
      if (handler(start.target) !== false) pressedAt = Date.now();
    }, LONG_PRESS_MS);
  });
  root.addEventListener('pointermove', (ev) => {
    if (timer && Math.hypot(ev.clientX - start.x, ev.clientY - start.y) > PRESS_SLOP_PX) cancel();
  });
  root.addEventListener('pointerup', cancel);
  root.addEventListener('pointercancel', cancel);
  root.addEventListener('contextmenu', (ev) => {
    // The browser's own long-press event for a press already handled.
    if (justPressed()) ev.preventDefault();
    else if (handler(ev.target) !== false) ev.preventDefault();
  });
  root.addEventListener('click', (ev) => {
    if (!justPressed()) return;
    pressedAt = 0;
    ev.preventDefault();
    ev.stopPropagation();
  }, true);
}
