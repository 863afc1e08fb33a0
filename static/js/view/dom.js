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

/** Shows or hides an inline message element (error or hint). */
export function showText(el, text) {
  el.textContent = text || '';
  el.hidden = !text;
}
