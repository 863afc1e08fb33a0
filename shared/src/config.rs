//! Configuration shared by every binary: how to reach NATS and PostgreSQL.

use clap::Args;

use crate::bus::NatsOptions;

/// NATS connection flags.
#[derive(Debug, Clone, Args)]
pub struct NatsArgs {
    /// NATS URL, e.g. nats://127.0.0.1:4222 (several comma-separated for a cluster).
    #[arg(long, env = "NATS_URL")]
    pub nats_url: Option<String>,

    /// NATS user (see nats.conf).
    #[arg(long, env = "NATS_USER")]
    pub nats_user: Option<String>,

    /// NATS password.
    #[arg(long, env = "NATS_PASSWORD", hide_env_values = true)]
    pub nats_password: Option<String>,
}

impl NatsArgs {
    /// The NATS URL, for the processes that cannot run without one.
    pub fn required_url(&self) -> Result<&str, MissingNatsUrl> {
        self.nats_url.as_deref().ok_or(MissingNatsUrl)
    }

    /// Connection options, named after the process for `nats server report connections`.
    pub fn options(&self, url: &str, name: &str) -> NatsOptions {
        NatsOptions {
            url: url.to_owned(),
            user: self.nats_user.clone(),
            password: self.nats_password.clone(),
            name: name.to_owned(),
        }
    }
}

/// Where a process serves its metrics and health checks.
#[derive(Debug, Clone, Args)]
pub struct MetricsArgs {
    /// Serve `/metrics`, `/healthz` and `/readyz` on this address (e.g.
    /// 0.0.0.0:9100 for Prometheus and a container's healthcheck).
    #[arg(long, env = "CHAT_METRICS_BIND")]
    pub metrics_bind: Option<std::net::SocketAddr>,
}

impl MetricsArgs {
    /// Serves them if asked to, ready when the bus is connected and the
    /// database answers.
    pub fn serve(
        &self,
        bus: std::sync::Arc<dyn crate::bus::Bus>,
        store: std::sync::Arc<dyn crate::store::Store>,
    ) -> std::io::Result<()> {
        let Some(bind) = self.metrics_bind else {
            return Ok(());
        };
        let ready: crate::telemetry::ReadyCheck = std::sync::Arc::new(move || {
            let (bus, store) = (bus.clone(), store.clone());
            Box::pin(async move {
                vec![
                    ("bus", bus.is_connected()),
                    ("database", store.ping().await.is_ok()),
                ]
            })
        });
        let addr = crate::telemetry::serve(bind, ready)?;
        tracing::info!(%addr, "serving /metrics, /healthz and /readyz");
        Ok(())
    }
}

/// The bot and the archiver run only against NATS.
#[derive(Debug, thiserror::Error)]
#[error("--nats-url (NATS_URL) is required")]
pub struct MissingNatsUrl;

/// Hides the password of a URL such as `postgres://user:secret@host/db`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:<redacted>@{host}")
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_passwords() {
        assert_eq!(
            redact_url("postgres://chat:s3cret@db:5432/chat"),
            "postgres://chat:<redacted>@db:5432/chat"
        );
        assert_eq!(redact_url("nats://127.0.0.1:4222"), "nats://127.0.0.1:4222");
    }
}
