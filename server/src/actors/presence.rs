//! Who is in a channel: users with connections on this server (counted, so
//! several tabs are one presence) and users present through other servers.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

#[derive(Default)]
pub struct Presence {
    /// Local connections per user.
    local: HashMap<Arc<str>, usize>,
    /// Users present through each other server.
    remote: HashMap<String, HashSet<String>>,
}

/// What a change did to a user's presence.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PresenceChange {
    /// The user's first (or last) connection on this server: tell other servers.
    pub local_edge: bool,
    /// The user appeared in (or left) the channel as a whole: tell the members.
    pub channel_edge: bool,
}

impl Presence {
    pub fn is_present(&self, user: &str) -> bool {
        self.local.contains_key(user) || self.remote.values().any(|s| s.contains(user))
    }

    /// Everyone present, sorted case-insensitively, each once.
    pub fn members(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .local
            .keys()
            .map(|u| u.to_string())
            .chain(self.remote.values().flatten().cloned())
            .collect();
        names.sort_by_key(|n| n.to_ascii_lowercase());
        names.dedup();
        names
    }

    /// Users with a connection on this server.
    pub fn local_users(&self) -> Vec<Arc<str>> {
        self.local.keys().cloned().collect()
    }

    pub fn join_local(&mut self, user: &Arc<str>) -> PresenceChange {
        let channel_edge = !self.is_present(user);
        let count = self.local.entry(user.clone()).or_insert(0);
        *count += 1;
        PresenceChange {
            local_edge: *count == 1,
            channel_edge,
        }
    }

    pub fn leave_local(&mut self, user: &str) -> PresenceChange {
        match self.local.get_mut(user) {
            Some(n) if *n > 1 => {
                *n -= 1;
                PresenceChange::default()
            }
            Some(_) => {
                self.local.remove(user);
                PresenceChange {
                    local_edge: true,
                    channel_edge: !self.is_present(user),
                }
            }
            None => PresenceChange::default(),
        }
    }

    /// Whether `server` was heard from before; remembers it from now on.
    pub fn learn_server(&mut self, server: &str) -> bool {
        if self.remote.contains_key(server) {
            return true;
        }
        self.remote.insert(server.to_owned(), HashSet::new());
        false
    }

    /// A user arrived through `server`; true if new to the channel.
    pub fn join_remote(&mut self, server: &str, user: &str) -> bool {
        let arrived = !self.is_present(user);
        self.remote
            .entry(server.to_owned())
            .or_default()
            .insert(user.to_owned());
        arrived
    }

    /// A user left `server`; true if gone from the channel.
    pub fn leave_remote(&mut self, server: &str, user: &str) -> bool {
        let was = self.is_present(user);
        if let Some(users) = self.remote.get_mut(server) {
            users.remove(user);
        }
        was && !self.is_present(user)
    }

    /// Forgets a server; returns the users that are now gone from the channel.
    pub fn drop_server(&mut self, server: &str) -> Vec<String> {
        let users = self.remote.remove(server).unwrap_or_default();
        users.into_iter().filter(|u| !self.is_present(u)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_local_connections_are_one_presence() {
        let mut p = Presence::default();
        let alice: Arc<str> = Arc::from("alice");
        assert_eq!(
            p.join_local(&alice),
            PresenceChange {
                local_edge: true,
                channel_edge: true
            }
        );
        assert_eq!(p.join_local(&alice), PresenceChange::default());
        assert_eq!(p.leave_local("alice"), PresenceChange::default());
        assert_eq!(
            p.leave_local("alice"),
            PresenceChange {
                local_edge: true,
                channel_edge: true
            }
        );
        assert!(!p.is_present("alice"));
        assert_eq!(
            p.leave_local("alice"),
            PresenceChange::default(),
            "leaving twice changes nothing"
        );
    }

    #[test]
    fn a_user_on_two_servers_stays_until_both_are_gone() {
        let mut p = Presence::default();
        let alice: Arc<str> = Arc::from("alice");
        assert!(p.join_remote("srv-b", "alice"));
        assert_eq!(
            p.join_local(&alice),
            PresenceChange {
                local_edge: true,
                channel_edge: false
            }
        );
        assert_eq!(
            p.leave_local("alice"),
            PresenceChange {
                local_edge: true,
                channel_edge: false
            }
        );
        assert!(p.leave_remote("srv-b", "alice"));
        assert!(p.members().is_empty());
    }

    #[test]
    fn a_dropped_server_takes_only_its_own_users() {
        let mut p = Presence::default();
        assert!(!p.learn_server("srv-b"));
        assert!(p.learn_server("srv-b"));
        p.join_remote("srv-b", "bob");
        p.join_remote("srv-b", "carol");
        p.join_remote("srv-c", "carol");
        let mut gone = p.drop_server("srv-b");
        gone.sort();
        assert_eq!(gone, vec!["bob"]);
        assert_eq!(p.members(), vec!["carol"]);
        assert!(!p.learn_server("srv-b"), "a dropped server is new again");
    }

    #[test]
    fn members_are_sorted_without_repeats() {
        let mut p = Presence::default();
        p.join_local(&Arc::from("bob"));
        p.join_remote("srv-b", "Alice");
        p.join_remote("srv-c", "bob");
        assert_eq!(p.members(), vec!["Alice", "bob"]);
    }
}
