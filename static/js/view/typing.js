// "bob is typing…" under the messages of the active channel.

import { state, typingUsers, isMe } from '../state.js';
import { $ } from './dom.js';

export function typingText(users) {
  if (users.length === 0) return '';
  if (users.length === 1) return `${users[0]} is typing…`;
  if (users.length === 2) return `${users[0]} and ${users[1]} are typing…`;
  if (users.length === 3) return `${users[0]}, ${users[1]} and ${users[2]} are typing…`;
  return 'Several people are typing…';
}

export function initTyping() {
  const el = $('typing');
  return {
    render(topics) {
      if (!topics.has('typing') && !topics.has('active')) return;
      const users = state.active ? typingUsers(state.active).filter((u) => !isMe(u)) : [];
      el.textContent = typingText(users.sort());
      el.classList.toggle('is-active', users.length > 0);
    },
  };
}
