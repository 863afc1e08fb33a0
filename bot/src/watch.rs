//! Channels' watchlists: `/watch CODE,…` and `/unwatch CODE,…`. The reply
//! carries the whole list as a card, so clients redraw their ticker at once.

use chat_shared::card::Card;
use chat_shared::store::market::MAX_WATCHED;

use crate::metrics::Outcome;
use crate::quote::QuoteError;
use crate::responder::{Asker, Reply, Responder, STORE_FAILED};
use crate::stock_codes::is_valid_code;

/// The usage line for `/watch` and `/unwatch`.
pub const USAGE: &str =
    "Usage: /watch CODE,… adds codes to this channel's ticker (e.g. /watch aapl.us,msft.us; \
                         at most 10 codes), /unwatch CODE,… takes them off.";

/// The codes of `a, b, …`, lower case, without repeats; `None` if any is bad.
fn codes(args: &str) -> Option<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for part in args
        .split([',', ' '])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let code = part.to_ascii_lowercase();
        if !is_valid_code(&code) {
            return None;
        }
        if !out.contains(&code) {
            out.push(code);
        }
    }
    (!out.is_empty() && out.len() <= MAX_WATCHED as usize).then_some(out)
}

fn upper(codes: &[String]) -> String {
    codes
        .iter()
        .map(|c| c.to_ascii_uppercase())
        .collect::<Vec<_>>()
        .join(", ")
}

fn with_list(text: String, list: Vec<String>) -> Reply {
    Reply {
        text,
        card: Some(Card::Watchlist { codes: list }),
        outcome: Outcome::Ok,
    }
}

/// The reply to `/watch …`: adds the codes the quote service knows.
pub async fn watch(r: &Responder, asker: &Asker<'_>, args: &str) -> Reply {
    let Some(asked) = codes(args) else {
        return Reply::from(USAGE).because(Outcome::BadRequest);
    };
    let list = match r.store.watchlist(asker.channel).await {
        Ok(list) => list,
        Err(e) => return failed(&e),
    };
    let new: Vec<String> = asked.into_iter().filter(|c| !list.contains(c)).collect();
    if list.len() + new.len() > MAX_WATCHED as usize {
        return format!(
            "This channel's ticker holds at most {MAX_WATCHED} codes and has {}: {}. Take some off with /unwatch first.",
            list.len(),
            upper(&list)
        )
        .into();
    }
    let checks =
        futures::future::join_all(new.iter().map(|c| r.upstream.quote(c, asker.user))).await;
    let (mut added, mut unknown) = (Vec::new(), Vec::new());
    for (code, check) in new.into_iter().zip(checks) {
        match check {
            Err(QuoteError::NotFound(_)) => unknown.push(code),
            _ => added.push(code),
        }
    }
    for code in &added {
        if let Err(e) = r.store.watch(asker.channel, code).await {
            return failed(&e);
        }
    }
    let list = match r.store.watchlist(asker.channel).await {
        Ok(list) => list,
        Err(e) => return failed(&e),
    };
    let mut text = if added.is_empty() {
        String::from("Nothing new to watch.")
    } else {
        format!("Watching {} here.", upper(&added))
    };
    if !unknown.is_empty() {
        text.push_str(&format!(
            " I couldn't find a quote for {}, so it is not added.",
            upper(&unknown)
        ));
    }
    text.push_str(&format!(" The ticker: {}.", upper(&list)));
    with_list(text, list)
}

/// The reply to `/unwatch …`.
pub async fn unwatch(r: &Responder, asker: &Asker<'_>, args: &str) -> Reply {
    let Some(asked) = codes(args) else {
        return Reply::from(USAGE).because(Outcome::BadRequest);
    };
    let mut removed = Vec::new();
    for code in &asked {
        match r.store.unwatch(asker.channel, code).await {
            Ok(true) => removed.push(code.clone()),
            Ok(false) => {}
            Err(e) => return failed(&e),
        }
    }
    let list = match r.store.watchlist(asker.channel).await {
        Ok(list) => list,
        Err(e) => return failed(&e),
    };
    let mut text = if removed.is_empty() {
        format!("{} isn't on this channel's ticker.", upper(&asked))
    } else {
        format!("{} is off this channel's ticker.", upper(&removed))
    };
    if list.is_empty() {
        text.push_str(" The ticker is empty.");
    } else {
        text.push_str(&format!(" The ticker: {}.", upper(&list)));
    }
    with_list(text, list)
}

fn failed(e: &chat_shared::store::StoreError) -> Reply {
    tracing::error!(error = %e, "watchlist store failed");
    Reply::from(STORE_FAILED).because(Outcome::Failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watch_arguments() {
        assert_eq!(
            codes("AAPL.US, msft.us aapl.us"),
            Some(vec!["aapl.us".into(), "msft.us".into()])
        );
        let eleven: Vec<String> = (0..11).map(|i| format!("c{i}")).collect();
        for bad in ["", " , ", "<b>", "a;b", &eleven.join(",")] {
            assert_eq!(codes(bad), None, "{bad:?}");
        }
    }
}
