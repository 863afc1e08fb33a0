// Dismissible toasts for errors that belong to no particular send.

import { $, h } from './dom.js';

const TOAST_MS = 10000;
const MAX_TOASTS = 4;

/** Shows a dismissible error toast. */
export function toast(message) {
  const box = $('toasts');
  const close = h('button', { type: 'button', class: 'toast-close', 'aria-label': 'Dismiss', text: '×' });
  const el = h('div', { class: 'toast', role: 'alert' }, h('span', { class: 'toast-text', text: message }), close);
  const dismiss = () => {
    clearTimeout(timer);
    el.remove();
  };
  const timer = setTimeout(dismiss, TOAST_MS);
  close.addEventListener('click', dismiss);
  box.append(el);
  while (box.children.length > MAX_TOASTS) box.firstElementChild.remove();
}
