// The connection banner: "Connection lost — reconnecting in 3s…" while the
// socket waits for its next attempt, "Reconnecting…" during one.

import { state } from '../state.js';
import { $ } from './dom.js';

export function initBanner({ retryNow }) {
  const banner = $('banner');
  const text = $('banner-text');
  const retry = $('banner-retry');
  let ticker = null;

  retry.addEventListener('click', () => retryNow());

  function update() {
    const { status, retryAt, everOpen } = state.connection;
    const down = everOpen && (status === 'waiting' || status === 'connecting');
    banner.hidden = !down;
    document.body.classList.toggle('has-banner', down);
    if (!down) {
      clearInterval(ticker);
      ticker = null;
      return;
    }
    if (status === 'waiting') {
      const secs = Math.max(1, Math.ceil((retryAt - Date.now()) / 1000));
      text.textContent = `Connection lost — reconnecting in ${secs}s…`;
      retry.hidden = false;
      if (!ticker) ticker = setInterval(update, 500);
    } else {
      text.textContent = 'Reconnecting…';
      retry.hidden = true;
    }
  }

  return {
    render(topics) {
      if (topics.has('connection')) update();
    },
  };
}
