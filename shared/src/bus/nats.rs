//! The bus over NATS (async-nats): the same subjects and semantics as the
//! in-process bus, across processes and machines.

use std::time::Duration;

use async_nats::header::HeaderMap;
use async_nats::{Client, ConnectOptions, RequestErrorKind};
use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;

use super::{Bus, BusError, Envelope, Headers, StoredAt, Subscription};
use crate::{subjects, telemetry};

/// How to reach NATS.
#[derive(Clone, Default)]
pub struct NatsOptions {
    pub url: String,
    pub user: Option<String>,
    pub password: Option<String>,
    /// Name shown in the NATS server's connection list.
    pub name: String,
}

impl std::fmt::Debug for NatsOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsOptions")
            .field("url", &self.url)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("name", &self.name)
            .finish()
    }
}

/// A NATS connection. Reconnects by itself; subscriptions survive reconnects.
#[derive(Clone)]
pub struct NatsBus {
    client: Client,
    pub(super) jetstream: async_nats::jetstream::Context,
    /// Counts the connections made so far: it changes at each reconnection.
    connections: tokio::sync::watch::Receiver<u64>,
}

pub(super) fn unavailable(e: impl std::fmt::Display) -> BusError {
    BusError::Unavailable(e.to_string())
}

impl NatsBus {
    /// Connects, retrying until NATS answers.
    pub async fn connect(options: &NatsOptions) -> Result<Self, BusError> {
        let (connected, connections) = tokio::sync::watch::channel(0u64);
        let connected = std::sync::Arc::new(connected);
        let mut connect = ConnectOptions::new()
            .name(&options.name)
            .retry_on_initial_connect()
            .max_reconnects(None)
            .event_callback(move |event| {
                let connected = connected.clone();
                async move {
                    match event {
                        async_nats::Event::Connected => {
                            connected.send_modify(|n| *n += 1);
                            if *connected.borrow() > 1 {
                                metrics::counter!(telemetry::NATS_RECONNECTS).increment(1);
                            }
                            metrics::gauge!(telemetry::NATS_CONNECTED).set(1.0);
                            tracing::info!("connected to NATS")
                        }
                        async_nats::Event::Disconnected => {
                            metrics::gauge!(telemetry::NATS_CONNECTED).set(0.0);
                            tracing::warn!("disconnected from NATS; reconnecting")
                        }
                        other => tracing::warn!(event = %other, "NATS event"),
                    }
                }
            });
        if let (Some(user), Some(password)) = (&options.user, &options.password) {
            connect = connect.user_and_password(user.clone(), password.clone());
        }
        // Several nodes of a cluster may be given, comma separated (as
        // NATS_URL documents); async-nats takes them as a list.
        let urls: Vec<&str> = options
            .url
            .split(',')
            .map(str::trim)
            .filter(|url| !url.is_empty())
            .collect();
        let client = connect.connect(urls).await.map_err(unavailable)?;
        telemetry::register(&telemetry::NATS);
        if client.connection_state() == async_nats::connection::State::Connected {
            metrics::gauge!(telemetry::NATS_CONNECTED).set(1.0);
        }
        let jetstream = async_nats::jetstream::new(client.clone());
        Ok(Self {
            client,
            jetstream,
            connections,
        })
    }

    /// Writes out a subscription that is only queued so far, so that it is
    /// in effect on the server by the time the caller relies on it.
    async fn in_effect(&self, sub: async_nats::Subscriber) -> Result<Subscription, BusError> {
        self.client.flush().await.map_err(unavailable)?;
        Ok(Subscription::new(sub.map(Self::envelope)))
    }

    /// Changes each time the connection comes back after a loss.
    pub fn reconnections(&self) -> tokio::sync::watch::Receiver<u64> {
        self.connections.clone()
    }

    /// The underlying client, for JetStream.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Wraps a NATS message as an envelope.
    pub fn envelope(m: async_nats::Message) -> Envelope {
        let headers = m
            .headers
            .as_ref()
            .map(|h| {
                h.iter()
                    .flat_map(|(k, vs)| {
                        vs.iter()
                            .map(move |v| (k.to_string(), v.as_str().to_owned()))
                    })
                    .collect()
            })
            .unwrap_or_default();
        Envelope {
            subject: m.subject.to_string(),
            reply: m.reply.map(|r| r.to_string()),
            headers,
            payload: m.payload,
        }
    }
}

/// NATS headers from ours.
pub fn header_map(headers: &Headers) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (k, v) in headers {
        map.append(k.as_str(), v.as_str());
    }
    map
}

#[async_trait]
impl Bus for NatsBus {
    async fn publish(
        &self,
        subject: &str,
        headers: Headers,
        payload: Bytes,
    ) -> Result<(), BusError> {
        let subject = subject.to_owned();
        if headers.is_empty() {
            self.client
                .publish(subject, payload)
                .await
                .map_err(unavailable)
        } else {
            self.client
                .publish_with_headers(subject, header_map(&headers), payload)
                .await
                .map_err(unavailable)
        }
    }

    async fn publish_stored(
        &self,
        subject: &str,
        headers: Headers,
        payload: Bytes,
    ) -> Result<StoredAt, BusError> {
        let began = std::time::Instant::now();
        let ack = self
            .jetstream
            .publish_with_headers(subject.to_owned(), header_map(&headers), payload)
            .await
            .map_err(unavailable)?
            .await
            .map_err(unavailable)?;
        metrics::histogram!(telemetry::NATS_PUBLISH_ACK).record(began.elapsed().as_secs_f64());
        Ok(StoredAt {
            sequence: ack.sequence,
            duplicate: ack.duplicate,
        })
    }

    async fn stored(&self, stream: &str, sequence: u64) -> Result<Envelope, BusError> {
        let stream = self
            .jetstream
            .get_stream_no_info(stream)
            .await
            .map_err(unavailable)?;
        let raw = stream
            .get_raw_message(sequence)
            .await
            .map_err(unavailable)?;
        let headers = raw
            .headers
            .iter()
            .flat_map(|(k, vs)| {
                vs.iter()
                    .map(move |v| (k.to_string(), v.as_str().to_owned()))
            })
            .collect();
        Ok(Envelope {
            subject: raw.subject.to_string(),
            reply: None,
            headers,
            payload: raw.payload,
        })
    }

    async fn publish_with_reply(
        &self,
        subject: &str,
        reply: &str,
        payload: Bytes,
    ) -> Result<(), BusError> {
        self.client
            .publish_with_reply(subject.to_owned(), reply.to_owned(), payload)
            .await
            .map_err(unavailable)
    }

    async fn subscribe(&self, pattern: &str) -> Result<Subscription, BusError> {
        let sub = self
            .client
            .subscribe(pattern.to_owned())
            .await
            .map_err(unavailable)?;
        self.in_effect(sub).await
    }

    async fn subscribe_stored(
        &self,
        stream: &str,
        subject: &str,
    ) -> Result<Subscription, BusError> {
        Ok(super::follow::follow(self, stream, subject).await)
    }

    async fn queue_subscribe(&self, pattern: &str, queue: &str) -> Result<Subscription, BusError> {
        let sub = self
            .client
            .queue_subscribe(pattern.to_owned(), queue.to_owned())
            .await
            .map_err(unavailable)?;
        self.in_effect(sub).await
    }

    async fn request(
        &self,
        subject: &str,
        headers: Headers,
        payload: Bytes,
        timeout: Duration,
    ) -> Result<Envelope, BusError> {
        let mut request = async_nats::Request::new()
            .payload(payload)
            .timeout(Some(timeout));
        if !headers.is_empty() {
            request = request.headers(header_map(&headers));
        }
        match self.client.send_request(subject.to_owned(), request).await {
            Ok(m) => Ok(Self::envelope(m)),
            Err(e) => Err(match e.kind() {
                RequestErrorKind::NoResponders => BusError::NoResponders(subject.to_owned()),
                RequestErrorKind::TimedOut => BusError::Timeout(subject.to_owned()),
                RequestErrorKind::InvalidSubject => BusError::InvalidSubject(subject.to_owned()),
                _ => unavailable(e),
            }),
        }
    }

    fn archive_may_lag(&self) -> bool {
        true
    }

    async fn read_unarchived(
        &self,
        subject: &str,
        within: Duration,
        take: &mut (dyn FnMut(Envelope, chrono::DateTime<chrono::Utc>) -> super::read_back::Then
                  + Send),
    ) -> Result<(), BusError> {
        let (stream, consumer) = (subjects::MSG_STREAM, subjects::ARCHIVE_CONSUMER);
        self.read_unacknowledged(stream, consumer, subject, within, take)
            .await
    }

    fn is_connected(&self) -> bool {
        self.client.connection_state() == async_nats::connection::State::Connected
    }

    async fn flush(&self) -> Result<(), BusError> {
        self.client.flush().await.map_err(unavailable)
    }
}
