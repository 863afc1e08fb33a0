//! Who is in a channel: users with connections on this server (counted, so
//! several tabs are one presence) and users present through other servers;
//! everyone present, in name order, for paging; and who came and went since
//! the members were last told (a diff, sent in batches).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Bound;
use std::sync::Arc;

use chat_shared::frames::PresenceEvent;

#[derive(Default)]
pub struct Presence {
    /// Local connections per user.
    local: HashMap<Arc<str>, usize>,
    /// Users present through each other server.
    remote: HashMap<String, HashSet<String>>,
    /// Everyone present, by lower-case name: the name as written, and from
    /// how many places (this server, each other server) they are here.
    roster: BTreeMap<String, Present>,
    /// Who arrived or left since the members were last told.
    pending: HashMap<String, PresenceEvent>,
}

struct Present {
    name: String,
    places: usize,
}

/// What a change did to a user's presence.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PresenceChange {
    /// The user's first (or last) connection on this server: tell other servers.
    pub local_edge: bool,
    /// The user appeared in (or left) the channel as a whole: tell the members.
    pub channel_edge: bool,
}

/// Who came and went in one batch, each list in name order.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Diff {
    pub joins: Vec<String>,
    pub leaves: Vec<String>,
}

impl Diff {
    pub fn is_empty(&self) -> bool {
        self.joins.is_empty() && self.leaves.is_empty()
    }
}

impl Presence {
    pub fn is_present(&self, user: &str) -> bool {
        self.roster.contains_key(&user.to_ascii_lowercase())
    }

    /// How many people are present.
    pub fn count(&self) -> usize {
        self.roster.len()
    }

    /// Everyone present, sorted case-insensitively, each once.
    #[cfg(test)]
    pub fn members(&self) -> Vec<String> {
        self.page(None, usize::MAX)
    }

    /// At most `limit` of those present, in name order, after the one whose
    /// lower-case name is `after`.
    pub fn page(&self, after: Option<&str>, limit: usize) -> Vec<String> {
        let start = match after {
            Some(a) => Bound::Excluded(a.to_ascii_lowercase()),
            None => Bound::Unbounded,
        };
        self.roster
            .range((start, Bound::Unbounded))
            .take(limit)
            .map(|(_, p)| p.name.clone())
            .collect()
    }

    /// Users with a connection on this server.
    pub fn local_users(&self) -> Vec<Arc<str>> {
        self.local.keys().cloned().collect()
    }

    /// Who came and went since the last call, forgetting it.
    pub fn take_diff(&mut self) -> Diff {
        let mut diff = Diff::default();
        for (user, event) in self.pending.drain() {
            match event {
                PresenceEvent::Join => diff.joins.push(user),
                PresenceEvent::Leave => diff.leaves.push(user),
            }
        }
        diff.joins.sort_by_key(|n| n.to_ascii_lowercase());
        diff.leaves.sort_by_key(|n| n.to_ascii_lowercase());
        diff
    }

    /// Whether a diff waits to be told.
    pub fn has_diff(&self) -> bool {
        !self.pending.is_empty()
    }

    /// `user` is here from one more place; true if new to the channel.
    fn arrive(&mut self, user: &str) -> bool {
        let entry = self
            .roster
            .entry(user.to_ascii_lowercase())
            .or_insert_with(|| Present {
                name: user.to_owned(),
                places: 0,
            });
        entry.places += 1;
        let arrived = entry.places == 1;
        if arrived {
            self.note(user, PresenceEvent::Join);
        }
        arrived
    }

    /// `user` is here from one place fewer; true if gone from the channel.
    fn depart(&mut self, user: &str) -> bool {
        let key = user.to_ascii_lowercase();
        let Some(entry) = self.roster.get_mut(&key) else {
            return false;
        };
        entry.places -= 1;
        if entry.places > 0 {
            return false;
        }
        let name = self.roster.remove(&key).map(|p| p.name).unwrap_or_default();
        self.note(&name, PresenceEvent::Leave);
        true
    }

    /// Remembers a change for the next diff; a change that undoes one not
    /// told yet cancels it (came and went: nothing to tell).
    fn note(&mut self, user: &str, event: PresenceEvent) {
        match self.pending.get(user) {
            Some(pending) if *pending != event => {
                self.pending.remove(user);
            }
            _ => {
                self.pending.insert(user.to_owned(), event);
            }
        }
    }

    pub fn join_local(&mut self, user: &Arc<str>) -> PresenceChange {
        let count = self.local.entry(user.clone()).or_insert(0);
        *count += 1;
        if *count > 1 {
            return PresenceChange::default();
        }
        PresenceChange {
            local_edge: true,
            channel_edge: self.arrive(user),
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
                    channel_edge: self.depart(user),
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
        let users = self.remote.entry(server.to_owned()).or_default();
        if !users.insert(user.to_owned()) {
            return false;
        }
        self.arrive(user)
    }

    /// A user left `server`; true if gone from the channel.
    pub fn leave_remote(&mut self, server: &str, user: &str) -> bool {
        let removed = self
            .remote
            .get_mut(server)
            .is_some_and(|users| users.remove(user));
        removed && self.depart(user)
    }

    /// Forgets a server; returns the users that are now gone from the channel.
    pub fn drop_server(&mut self, server: &str) -> Vec<String> {
        let users = self.remote.remove(server).unwrap_or_default();
        users.into_iter().filter(|u| self.depart(u)).collect()
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
        assert!(!p.join_remote("srv-b", "alice"), "told twice: still one");
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
        assert!(!p.leave_remote("srv-c", "alice"), "never there");
        assert!(p.leave_remote("srv-b", "alice"));
        assert!(p.members().is_empty());
        assert_eq!(p.count(), 0);
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
    fn members_are_sorted_without_repeats_and_paged_by_lower_case_name() {
        let mut p = Presence::default();
        p.join_local(&Arc::from("bob"));
        p.join_remote("srv-b", "Alice");
        p.join_remote("srv-c", "bob");
        p.join_remote("srv-c", "carol");
        assert_eq!(p.members(), vec!["Alice", "bob", "carol"]);
        assert_eq!(p.count(), 3);
        assert_eq!(p.page(None, 2), vec!["Alice", "bob"]);
        assert_eq!(p.page(Some("bob"), 2), vec!["carol"]);
        assert_eq!(p.page(Some("ALICE"), 1), vec!["bob"]);
        assert!(p.page(Some("carol"), 5).is_empty());
    }

    #[test]
    fn a_diff_lists_who_came_and_went_once_and_cancels_what_was_undone() {
        let mut p = Presence::default();
        for name in ["dave", "Bob", "carol"] {
            p.join_local(&Arc::from(name));
        }
        let diff = p.take_diff();
        assert_eq!(diff.joins, vec!["Bob", "carol", "dave"]);
        assert!(diff.leaves.is_empty());
        assert!(!p.has_diff(), "taken: nothing waits");

        p.leave_local("carol");
        p.join_local(&Arc::from("erin"));
        p.leave_local("erin");
        p.leave_local("dave");
        p.join_local(&Arc::from("dave"));
        assert_eq!(
            p.take_diff(),
            Diff {
                joins: vec![],
                leaves: vec!["carol".to_owned()]
            },
            "erin came and went, dave went and came back: neither is told"
        );
        assert!(p.take_diff().is_empty());
    }
}
