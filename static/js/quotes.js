// Quotes the page asked the server for (GET /api/quotes/{code}), kept as
// long as the server keeps them, so that hovering a cashtag again, or
// another cashtag of the same code, asks nothing. A code the service does
// not know is remembered as long; a failure (quotes unavailable, busy, no
// connection) only for a moment, so that it is asked again soon.

const KEEP_MS = 30000;
const KEEP_FAILURE_MS = 5000;

/**
 * fetchQuote(code) resolves with a quote card or throws an ApiError.
 * get(code) resolves with {card} or {error} (the ApiError).
 */
export function createQuotes(fetchQuote) {
  const kept = new Map(); // code -> {until, answer: Promise<{card}|{error}>}

  function get(code) {
    const entry = kept.get(code);
    if (entry && entry.until > Date.now()) return entry.answer;
    const answer = fetchQuote(code).then(
      (card) => ({ card }),
      (error) => {
        const known = error && (error.status === 404 || error.status === 400);
        const held = kept.get(code);
        if (held && held.answer === answer) held.until = Date.now() + (known ? KEEP_MS : KEEP_FAILURE_MS);
        return { error };
      },
    );
    kept.set(code, { until: Date.now() + KEEP_MS, answer });
    return answer;
  }

  return {
    get,
    /** Keeps a quote card the page got another way (a watchlist) for `code`. */
    remember(code, card) {
      kept.set(code, { until: Date.now() + KEEP_MS, answer: Promise.resolve({ card }) });
    },
    /** Forgets everything (logged out). */
    forget() {
      kept.clear();
    },
  };
}
