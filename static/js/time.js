// Date and time formatting for message timestamps (local time zone).

const pad = (n) => String(n).padStart(2, '0');

export function parseTs(ts) {
  const d = new Date(ts);
  return Number.isNaN(d.getTime()) ? new Date() : d;
}

/** HH:MM in local time. */
export const clock = (d) => `${pad(d.getHours())}:${pad(d.getMinutes())}`;

/** Full local date and time, for tooltips. */
export const fullDate = (d) => d.toLocaleString(undefined, {
  weekday: 'long', year: 'numeric', month: 'long', day: 'numeric',
  hour: '2-digit', minute: '2-digit', second: '2-digit',
});

/** Local calendar day, usable as a key. */
export const dayKey = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;

/** "Today", "Yesterday" or the date. */
export function dayLabel(d, now = new Date()) {
  if (dayKey(d) === dayKey(now)) return 'Today';
  const yesterday = new Date(now.getFullYear(), now.getMonth(), now.getDate() - 1);
  if (dayKey(d) === dayKey(yesterday)) return 'Yesterday';
  return d.toLocaleDateString(undefined, {
    weekday: 'long', month: 'long', day: 'numeric',
    year: d.getFullYear() === now.getFullYear() ? undefined : 'numeric',
  });
}
