// The member list of the active channel.

import { state, channel, isMe } from '../state.js';
import { avatar } from './avatar.js';
import { $, h } from './dom.js';

export function initMembers() {
  const list = $('member-list');
  const title = $('members-title');
  const count = $('members-count');
  const toggle = $('members-toggle');

  function render() {
    const names = state.active ? [...channel(state.active).members] : [];
    names.sort((a, b) => a.localeCompare(b, undefined, { sensitivity: 'base' }));
    title.textContent = `Members — ${names.length}`;
    count.textContent = names.length ? String(names.length) : '';
    toggle.setAttribute('aria-label', `Members (${names.length})`);
    list.replaceChildren(...names.map((name) => h('li', { class: 'member' },
      h('span', { class: 'member-avatar' }, avatar(name, 'sm'),
        h('span', { class: 'presence-dot', 'aria-hidden': 'true' })),
      h('span', { class: 'member-name', text: name }),
      isMe(name) ? h('span', { class: 'member-you', text: '(you)' }) : null)));
  }

  return {
    render(topics) {
      if (topics.has('members') || topics.has('active')) render();
    },
  };
}
