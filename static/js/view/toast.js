// Dismissible toasts: errors that belong to no particular send, and
// (`notice`) news of what someone did to us, e.g. a removal from a channel.

import { $, h } from './dom.js';

const TOAST_MS = 10000;
const MAX_TOASTS = 4;

/** Shows a dismissible error toast, or with `notice` a piece of news (announced politely). */
export function toast(message, { notice = false } = {}) {
  const box = $('toasts');
  const close = h('button', { type: 'button', class: 'toast-close', 'aria-label': 'Dismiss', text: '×' });
  const el = h('div', { class: notice ? 'toast toast-notice' : 'toast', role: notice ? 'status' : 'alert' },
    h('span', { class: 'toast-text', text: message }), close);
  const dismiss = () => {
    clearTimeout(timer);
    el.remove();
  };
  const timer = setTimeout(dismiss, TOAST_MS);
  close.addEventListener('click', dismiss);
  box.append(el);
  while (box.children.length > MAX_TOASTS) box.firstElementChild.remove();
}
