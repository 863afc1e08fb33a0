//! The chat's NATS subjects: every name and prefix the processes publish or
//! subscribe on. Subjects for a channel can only be built from a
//! `ChannelName`, so no unchecked string becomes a subject token. What
//! travels on them is in `crate::payloads` (and `crate::bot_commands`).

use crate::names::ChannelName;

/// Header naming the process that published a message (to skip its own echo;
/// anyone may set it, so it proves nothing).
pub const ORIGIN_HEADER: &str = "Chat-Origin";
/// Header carrying a chat server's signature of a message (`crate::bus::signature`).
pub const SIGNATURE_HEADER: &str = "Chat-Sig";
/// Header carrying a bot command's correlation id
/// (`crate::correlation::CorrelationId`): the server's and the bot's log
/// lines about the command carry it.
pub const CORRELATION_HEADER: &str = "Chat-Correlation";
/// Header by which JetStream de-duplicates a message (its id).
pub const MSG_ID_HEADER: &str = "Nats-Msg-Id";

/// Chat messages: `chat.msg.<channel>`. Members' messages (published by
/// their server, signed, and acknowledged once the stream has stored them),
/// the bot's replies and operators' notices. Only the stream receives them:
/// servers deliver what it stored, in its order (`Bus::subscribe_stored`).
pub const MSG_PREFIX: &str = "chat.msg.";
/// Every chat message, of every channel.
pub const MSG_ALL: &str = "chat.msg.>";
/// The JetStream stream that stores every message.
pub const MSG_STREAM: &str = "CHAT";
/// The subjects the stream stores.
pub const STORED: [&str; 1] = [MSG_ALL];
/// History requests to the archivers: `chat.history.<channel>`.
pub const HISTORY_PREFIX: &str = "chat.history.";
/// Every history request.
pub const HISTORY_ALL: &str = "chat.history.*";
/// Presence notes between servers: `chat.presence.<channel>`.
pub const PRESENCE_PREFIX: &str = "chat.presence.";

/// Commands for the bot: `chat.cmd.<name>`.
pub const CMD_PREFIX: &str = "chat.cmd.";
/// `/stock=…`.
pub const CMD_STOCK: &str = "chat.cmd.stock";
/// `/help`.
pub const CMD_HELP: &str = "chat.cmd.help";
/// Commands nobody knows, for the bot to explain.
pub const CMD_UNKNOWN: &str = "chat.cmd.unknown";
/// Every command.
pub const CMD_ALL: &str = "chat.cmd.*";
/// Quotes asked of a bot (`GET /api/quotes/{code}`, watchlists): request
/// `{"code"}`, reply `crate::payloads::QuoteAnswer`.
pub const QUOTE: &str = "chat.quote";

/// Channel announcements.
pub const CHANNELS: &str = "chat.channels";
/// Login sessions ended by logout, so every server closes their connections.
pub const SESSIONS_REVOKED: &str = "chat.sessions.revoked";
/// Servers say they are alive here every few seconds.
pub const SERVERS: &str = "chat.servers";

/// A channel closed or reopened by an operator (`crate::admin::ChannelState`),
/// so every server refuses or takes posts there and tells its members.
pub const CHANNEL_STATE: &str = "chat.channels.state";
/// Operators' notices, passed from the server that took the request to
/// every server (`crate::admin::Notice`).
pub const NOTICES: &str = "chat.notices";

/// Operators' requests (`crate::admin`): `chat.admin.<op>`, taken by one
/// server of the queue group `ADMIN_QUEUE`.
pub const ADMIN_ALL: &str = "chat.admin.*";
pub const ADMIN_SERVERS: &str = "chat.admin.servers";
pub const ADMIN_ONLINE: &str = "chat.admin.online";
pub const ADMIN_DISCONNECT: &str = "chat.admin.disconnect";
pub const ADMIN_CLOSE: &str = "chat.admin.close";
pub const ADMIN_REOPEN: &str = "chat.admin.reopen";
pub const ADMIN_NOTICE: &str = "chat.admin.notice";
/// Queue group of the servers on `ADMIN_ALL`.
pub const ADMIN_QUEUE: &str = "admin";
/// The prefix of operators' reply subjects (`--inbox-prefix` of the nats
/// CLI, `custom_inbox_prefix` of a client): the only inboxes servers may
/// publish to.
pub const OPS_INBOX_PREFIX: &str = "_INBOX_ops";
/// What a server asks every server to answer an operator:
/// `chat.admin.gather.<op>`, answered on `answer(server, n)`.
pub const GATHER_PREFIX: &str = "chat.admin.gather.";
pub const GATHER_ALL: &str = "chat.admin.gather.*";
pub const GATHER_SERVERS: &str = "chat.admin.gather.servers";
pub const GATHER_ONLINE: &str = "chat.admin.gather.online";

/// Where the servers answer server `server`'s gathering number `n`.
pub fn answer(server: &str, n: u64) -> String {
    format!("chat.admin.answer.{server}.{n}")
}

/// Frames for one person's connections, on whatever server:
/// `chat.user.<username, lower case>` (read markers today). Each server
/// subscribes for the users connected to it, and only while they are.
pub const USER_PREFIX: &str = "chat.user.";
/// Header naming the connection (`<server>/<connection>`) a user frame came
/// from, which does not get it back.
pub const CONN_HEADER: &str = "Chat-Conn";

/// Queue group of the bots.
pub const BOT_QUEUE: &str = "bot";
/// Queue group of the archivers.
pub const ARCHIVER_QUEUE: &str = "archiver";
/// The archivers' shared durable consumer on the stream: what it has
/// acknowledged is archived.
pub const ARCHIVE_CONSUMER: &str = "archiver";

/// The subject of an investor tool's commands (`crate::bot_commands::TOOLS`).
pub fn tool(name: &str) -> &'static str {
    match name {
        "chart" => "chat.cmd.chart",
        "alert" => "chat.cmd.alert",
        "alerts" => "chat.cmd.alerts",
        "watch" => "chat.cmd.watch",
        _ => "chat.cmd.unwatch",
    }
}

pub fn msg(channel: &ChannelName) -> String {
    format!("{MSG_PREFIX}{channel}")
}

/// The subject of `username`'s connections (any case: it is lowered).
pub fn user(username: &str) -> String {
    format!("{USER_PREFIX}{}", username.to_ascii_lowercase())
}

pub fn history(channel: &ChannelName) -> String {
    format!("{HISTORY_PREFIX}{channel}")
}

pub fn presence(channel: &ChannelName) -> String {
    format!("{PRESENCE_PREFIX}{channel}")
}

/// Whether `subject` carries presence notes (rather than messages).
pub fn is_presence(subject: &str) -> bool {
    subject.starts_with(PRESENCE_PREFIX)
}

/// The channel named by the last token of a per-channel subject.
pub fn channel_of(subject: &str) -> Option<ChannelName> {
    let last = subject.rsplit('.').next()?;
    ChannelName::parse(last).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bus::pattern::matches;

    #[test]
    fn channel_subjects_round_trip() {
        let c = ChannelName::parse("dev-ops").unwrap();
        assert_eq!(msg(&c), "chat.msg.dev-ops");
        assert_eq!(channel_of(&history(&c)), Some(c.clone()));
        assert_eq!(channel_of(&presence(&c)), Some(c.clone()));
        assert!(is_presence(&presence(&c)) && !is_presence(&msg(&c)));
        assert_eq!(channel_of("chat.msg.Bad"), None);
    }

    #[test]
    fn operators_reach_only_their_subjects() {
        for op in [
            ADMIN_SERVERS,
            ADMIN_ONLINE,
            ADMIN_DISCONNECT,
            ADMIN_CLOSE,
            ADMIN_REOPEN,
            ADMIN_NOTICE,
        ] {
            assert!(matches(ADMIN_ALL, op), "{op}");
        }
        // What servers say to each other is beyond the operators' wildcard.
        for internal in [GATHER_SERVERS, GATHER_ONLINE, &answer("srv-1", 2)] {
            assert!(!matches(ADMIN_ALL, internal), "{internal}");
        }
        assert!(matches(GATHER_ALL, GATHER_ONLINE));
    }

    #[test]
    fn each_wildcard_covers_the_subjects_built_from_its_prefix() {
        let c = ChannelName::general();
        assert!(matches(MSG_ALL, &msg(&c)));
        assert!(matches(HISTORY_ALL, &history(&c)));
        // The stream holds messages, never requests or presence.
        assert!(STORED.iter().any(|all| matches(all, &msg(&c))));
        assert!(!STORED.iter().any(|all| matches(all, &history(&c))));
        for cmd in [CMD_STOCK, CMD_HELP, CMD_UNKNOWN] {
            assert!(
                cmd.starts_with(CMD_PREFIX) && matches(CMD_ALL, cmd),
                "{cmd}"
            );
        }
    }
}
