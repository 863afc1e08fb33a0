// The tab's single WebSocket to /ws: JSON frames in and out, and reconnection
// with exponential backoff plus jitter. What to re-send after a reconnect is
// the caller's business (see onStatus 'open').

const BASE_DELAY_MS = 500;
const MAX_DELAY_MS = 15000;
const STABLE_AFTER_MS = 5000;

function socketUrl() {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/ws`;
}

/**
 * Creates the connection manager.
 * - onFrame(frame): every parsed server frame.
 * - onStatus({status, retryAt?}): status is 'connecting', 'open', 'waiting'
 *   (retryAt = epoch ms of the next attempt), 'unauthorized' or 'idle'.
 * - preflight(): before each reconnect, resolves 'ok', 'unauthorized' or
 *   'unreachable' (so a dead session or a down server costs no failed upgrade).
 */
export function createSocket({ onFrame, onStatus, preflight }) {
  let ws = null;
  let attempt = 0;
  let running = false;
  let connecting = false;
  let retryTimer = null;
  let stableTimer = null;

  function setStatus(status, extra = {}) {
    onStatus({ status, ...extra });
  }

  async function tryConnect() {
    clearTimeout(retryTimer);
    retryTimer = null;
    if (!running || ws || connecting) return;
    connecting = true;
    setStatus('connecting');
    let verdict = 'ok';
    if (attempt > 0 && preflight) {
      try {
        verdict = await preflight();
      } catch {
        verdict = 'unreachable';
      }
    }
    connecting = false;
    if (!running) return;
    if (verdict === 'unauthorized') {
      running = false;
      setStatus('unauthorized');
    } else if (verdict === 'ok') {
      open();
    } else {
      scheduleRetry();
    }
  }

  function open() {
    let sock;
    try {
      sock = new WebSocket(socketUrl());
    } catch {
      scheduleRetry();
      return;
    }
    ws = sock;
    sock.addEventListener('open', () => {
      if (ws !== sock) return;
      clearTimeout(stableTimer);
      stableTimer = setTimeout(() => { attempt = 0; }, STABLE_AFTER_MS);
      setStatus('open');
    });
    sock.addEventListener('message', (ev) => {
      if (ws !== sock || typeof ev.data !== 'string') return;
      let frame;
      try {
        frame = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (frame && typeof frame.type === 'string') onFrame(frame);
    });
    sock.addEventListener('close', () => {
      if (ws !== sock) return;
      ws = null;
      clearTimeout(stableTimer);
      if (running) scheduleRetry();
    });
    // A failed connection is followed by 'close'; nothing more to do here.
    sock.addEventListener('error', () => {});
  }

  function scheduleRetry() {
    const ceiling = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** attempt);
    attempt += 1;
    const delay = Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
    setStatus('waiting', { retryAt: Date.now() + delay });
    retryTimer = setTimeout(tryConnect, delay);
  }

  function onOnline() {
    if (running && !ws && !connecting) tryConnect();
  }
  window.addEventListener('online', onOnline);

  return {
    /** Starts connecting (the session is assumed valid for the first try). */
    connect() {
      if (running) return;
      running = true;
      attempt = 0;
      tryConnect();
    },
    /** Sends a frame; false when the socket is not open. */
    send(frame) {
      if (!ws || ws.readyState !== WebSocket.OPEN) return false;
      ws.send(JSON.stringify(frame));
      return true;
    },
    isOpen() {
      return !!ws && ws.readyState === WebSocket.OPEN;
    },
    /** Skips the remaining backoff wait. */
    retryNow() {
      if (running && !ws && !connecting) tryConnect();
    },
    /** Closes for good (logout); no reconnection. */
    close() {
      running = false;
      clearTimeout(retryTimer);
      clearTimeout(stableTimer);
      const sock = ws;
      ws = null;
      // Closing a socket that is still connecting makes the browser log an
      // error, so let it finish opening first.
      if (sock && sock.readyState === WebSocket.CONNECTING) {
        sock.addEventListener('open', () => sock.close(1000, 'bye'));
      } else if (sock) {
        sock.close(1000, 'bye');
      }
      setStatus('idle');
    },
  };
}

/** A fresh ref for a frame: random, so that a retry of it is recognized as one. */
export function newRef() {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return `c-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}
