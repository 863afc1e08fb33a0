//! Abuse limits on what costs CPU or reaches everyone, per address and per
//! account: failed logins, sign-ups, new channels. Counted in `Counters`
//! (memory, or a JetStream bucket shared by every server).

use std::net::IpAddr;
use std::time::Duration;

pub use chat_shared::counters::{Counters, RetryAfter};
use chat_shared::counters::{Key, Op, Rule};

use crate::limits::Limits;

/// The rules, and the counters they are kept in.
pub struct Abuse {
    counters: Counters,
    /// Failed logins of one account from one address.
    login: Rule,
    /// Failed logins from one address, any account.
    login_address: Rule,
    signup_address: Rule,
    channel_account: Rule,
    channel_address: Rule,
}

impl Abuse {
    pub fn new(counters: Counters, limits: &Limits) -> Self {
        let (minute, hour) = (limits.login_window(), limits.hourly_window());
        let rule = |name, limit, window| Rule {
            name,
            limit,
            window,
        };
        Self {
            counters,
            login: rule("login", limits.login_attempts, minute),
            login_address: rule("login_addr", limits.login_attempts_per_address, minute),
            signup_address: rule("signup_addr", limits.signups_per_hour, hour),
            channel_account: rule("channel_user", limits.channels_per_hour, hour),
            channel_address: rule("channel_addr", limits.channels_per_hour, hour),
        }
    }

    /// How long a counter must be kept: the longest window of any rule.
    pub fn longest_window(limits: &Limits) -> Duration {
        limits.login_window().max(limits.hourly_window())
    }

    pub async fn prepare(&self) {
        self.counters.prepare().await;
    }

    /// Whether `account` may try to log in from `from`. Never keyed by the
    /// account alone: a stranger's failures cannot lock its owner out.
    pub async fn login_allowed(&self, account: &str, from: IpAddr) -> Result<(), RetryAfter> {
        self.both(Op::Check, self.login_counters(account, from))
            .await
    }

    pub async fn login_failed(&self, account: &str, from: IpAddr) {
        // Recording never refuses.
        let _ = self
            .both(Op::Record, self.login_counters(account, from))
            .await;
    }

    /// Forgets the failures of `account` from `from` (not those of the address).
    pub async fn login_succeeded(&self, account: &str, from: IpAddr) {
        let [(_, pair), _] = self.login_counters(account, from);
        self.counters.clear(&pair).await;
    }

    /// Failed logins of the (account, address) pair, and of the address.
    fn login_counters(&self, account: &str, from: IpAddr) -> [(&Rule, Key); 2] {
        let (account, from) = (account.to_lowercase(), from.to_string());
        [
            (&self.login, self.login.key(&[&account, &from])),
            (&self.login_address, self.login_address.key(&[&from])),
        ]
    }

    /// Counts a sign-up from `from`, unless that address has had its share.
    pub async fn sign_up(&self, from: IpAddr) -> Result<(), RetryAfter> {
        let key = self.signup_address.key(&[&from.to_string()]);
        self.counters
            .apply(&self.signup_address, &key, Op::Hit)
            .await
    }

    /// Whether `account` may create a channel from `from`.
    pub async fn channel_allowed(&self, account: &str, from: IpAddr) -> Result<(), RetryAfter> {
        self.both(Op::Check, self.channel_counters(account, from))
            .await
    }

    pub async fn channel_created(&self, account: &str, from: IpAddr) {
        // Recording never refuses.
        let _ = self
            .both(Op::Record, self.channel_counters(account, from))
            .await;
    }

    /// New channels of the account, and of the address.
    fn channel_counters(&self, account: &str, from: IpAddr) -> [(&Rule, Key); 2] {
        [
            (
                &self.channel_account,
                self.channel_account.key(&[&account.to_lowercase()]),
            ),
            (
                &self.channel_address,
                self.channel_address.key(&[&from.to_string()]),
            ),
        ]
    }

    /// `op` on two counters at once; refused if either refuses (the longer wait).
    async fn both(&self, op: Op, [(a, x), (b, y)]: [(&Rule, Key); 2]) -> Result<(), RetryAfter> {
        let (x, y) = futures::join!(
            self.counters.apply(a, &x, op),
            self.counters.apply(b, &y, op)
        );
        match (x, y) {
            (Ok(()), Ok(())) => Ok(()),
            (Err(wait), Ok(())) | (Ok(()), Err(wait)) => Err(wait),
            (Err(x), Err(y)) => Err(x.max(y)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[actix_rt::test]
    async fn failed_logins_block_the_pair_and_then_the_address_never_the_account_alone() {
        let abuse = Abuse::new(Counters::in_memory(), &Limits::default());
        let (stranger, home) = (ip("203.0.113.9"), ip("198.51.100.7"));
        for _ in 0..10 {
            abuse.login_failed("Alice", stranger).await;
        }
        let wait = abuse.login_allowed("alice", stranger).await.unwrap_err();
        assert!((1..=60).contains(&wait.secs()), "{wait:?}");
        assert_eq!(abuse.login_allowed("alice", home).await, Ok(()));
        assert_eq!(abuse.login_allowed("bob", stranger).await, Ok(()));
        abuse.login_succeeded("ALICE", stranger).await;
        assert_eq!(abuse.login_allowed("alice", stranger).await, Ok(()));
        for i in 0..40 {
            abuse.login_failed(&format!("guess{i}"), stranger).await;
        }
        assert!(
            abuse.login_allowed("bob", stranger).await.is_err(),
            "50 failures from one address block it for everyone"
        );
    }
}
