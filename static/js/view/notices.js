// Operators' notices, above the messages of the open channel: a strip per
// notice with an icon, distinct from chat messages, each dismissible.
// Everyone's show whatever channel is open; a channel's, in that channel.

import { state } from '../state.js';
import { dismissNotice, noticesFor } from '../operators.js';
import { $, h, svgIcon } from './dom.js';
import { clock } from '../time.js';

/** A megaphone. */
const NOTICE_PATH = 'M3.5 10v4h3l6 4.5v-13L6.5 10zM16 9.5a3.5 3.5 0 0 1 0 5M18.5 7a7 7 0 0 1 0 10';

export function initNotices() {
  const strip = $('notices');

  function notice(n) {
    const where = n.channel ? `Notice for #${n.channel}` : 'Notice for everyone';
    return h('li', { class: 'op-notice', 'data-notice': n.id },
      h('span', { class: 'op-notice-icon', 'aria-hidden': 'true' }, svgIcon(NOTICE_PATH, 20)),
      h('span', { class: 'op-notice-body' },
        h('span', { class: 'op-notice-label', text: `${where} · ${clock(new Date(n.at))}` }),
        h('span', { class: 'op-notice-text', text: n.text })),
      h('button', {
        type: 'button', class: 'icon-btn op-notice-dismiss', 'aria-label': 'Dismiss notice', title: 'Dismiss',
        onclick: () => dismissNotice(n.id),
      }, '×'));
  }

  return {
    render(topics) {
      if (!topics.has('notices') && !topics.has('active')) return;
      const shown = noticesFor(state.active);
      strip.replaceChildren(...shown.map(notice));
      strip.hidden = shown.length === 0;
    },
  };
}
