// What the operators tell: notices (`notice` frames, shown until dismissed,
// never stored) and channels they closed or reopened (`closed` in the
// channel list and `joined`, `channel_state` frames live). Part of the
// store (state.js).

import { state, changed, setChannels } from './state.js';

/** Notices kept at most; the oldest goes first. */
const MAX_NOTICES = 5;
let nextNotice = 1;

/** An operator's notice: for everyone (`channel` null) or for one channel. */
export function addNotice(frame) {
  if (typeof frame.text !== 'string' || !frame.text) return;
  const channel = typeof frame.channel === 'string' && frame.channel ? frame.channel : null;
  const at = Number.isInteger(frame.at) ? frame.at : Date.now();
  state.notices = [...state.notices, { id: nextNotice++, text: frame.text, channel, at }].slice(-MAX_NOTICES);
  changed('notices');
}

export function dismissNotice(id) {
  state.notices = state.notices.filter((n) => n.id !== id);
  changed('notices');
}

/** The notices to show while `name` is open: everyone's and that channel's. */
export const noticesFor = (name) => state.notices.filter((n) => n.channel === null || n.channel === name);

/** An operator closed (or reopened) channel `name`. */
export function setClosed(name, closed) {
  if (typeof name !== 'string' || !name) return;
  if (isClosed(name) === closed) return;
  setChannels([{ name, closed }]);
}

export const isClosed = (name) => state.channels.some((ch) => ch.name === name && ch.closed === true);
