// The rows of the message pane, computed from the store: day separators,
// the "New" line above what was unread when the channel was opened, and
// messages grouped by author (pending sends last), each with a signature
// that changes whenever what its row shows does.

import { state, isMe, mentionsMe, original } from '../state.js';
import { firstLine } from './composer.js';
import { dayKey, dayLabel, parseTs } from '../time.js';
import { reactionsSig } from './reactions.js';
import { cardSig } from './cards.js';

const GROUP_WINDOW_MS = 5 * 60 * 1000;
/** The key of the "New" line's row. */
export const DIVIDER_KEY = 'new-divider';

/** Posts that are neither a person's nor the bot's, by `kind`: their badge. */
export const NOTICES = { operator: 'OPERATOR', system: 'SYSTEM' };

/** The notice kind of a message (`operator`, `system`), or null for people and the bot. */
export const noticeOf = (m) => (Object.hasOwn(NOTICES, m.kind) ? m.kind : null);

/** What a reply's quote shows: its original, undefined while unknown, null when gone. */
function quoteSig(name, m) {
  if (!m.reply_to) return '';
  const q = original(name, m.reply_to);
  if (q === undefined) return '?';
  return q === null ? '-' : `${q.user}:${q.deleted ? '' : `=${firstLine(q.text)}`}`;
}

/** The id of the message the "New" line goes above, or null. */
function dividerAt(c) {
  if (!c.divider) return null;
  const theirs = c.messages.filter((m) => !isMe(m.user) && !m.deleted);
  const { after, count } = c.divider;
  const first = after ? theirs.find((m) => m.id > after) : theirs[Math.max(0, theirs.length - count)];
  return first ? first.id : null;
}

/** Whether row `m` is highlighted as mentioning us. */
export const mentioning = (m) => !m.pending && !m.deleted && !isMe(m.user) && mentionsMe(m);

/**
 * The rows to show: day separators, the "New" line and messages (pending
 * ones last). `asking(id)`: what the row of message `id` asks of its
 * author now ('confirm' a deletion, 'deleting'), part of its signature.
 */
export function rowsOf(name, c, asking) {
  const newAt = dividerAt(c);
  const canReact = state.emoji.length > 0;
  const all = c.messages.concat(c.pending.map((p) => ({
    id: `p-${p.ref}`, user: state.me, text: p.text, ts: p.ts, bot: false, pending: p, reply_to: p.reply_to,
  })));
  const rows = [];
  let prev = null;
  let prevDay = null;
  for (const m of all) {
    const d = parseTs(m.ts);
    const day = dayKey(d);
    if (day !== prevDay) {
      rows.push({ key: `day-${day}`, day: true, d, sig: dayLabel(d) });
      prevDay = day;
      prev = null;
    }
    if (m.id === newAt) {
      rows.push({ key: DIVIDER_KEY, divider: true, sig: 'new' });
      prev = null;
    }
    const grouped = !!prev && prev.m.user === m.user && !!prev.m.bot === !!m.bot
      && !noticeOf(m) && !noticeOf(prev.m)
      && !prev.m.pending?.failed && d - prev.d >= 0 && d - prev.d < GROUP_WINDOW_MS;
    const p = m.pending;
    const sig = [grouped, m.text, m.ts, !!m.bot, noticeOf(m) || '', p ? (p.failed ? `x${p.error}` : 'p') : '',
      quoteSig(name, m), m.edited_at || '', !!m.deleted, p ? '' : asking(m.id), reactionsSig(m),
      Array.isArray(m.mentions) ? m.mentions.join(',') : '', mentioning(m), canReact, cardSig(m)].join('\u0000');
    rows.push({ key: m.pending ? m.id : `m-${m.id}`, m, d, grouped, sig });
    prev = { m, d };
  }
  return rows;
}
