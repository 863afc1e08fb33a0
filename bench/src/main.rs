//! `chat-bench`: a load generator for the chat server that speaks its real
//! protocol (HTTP login, WebSocket frames, NATS subjects) and measures
//! connections, fan-out, cross-server delivery, joins and archiving.
//! docs/benchmarks.md has the commands and the results.

// A command-line report tool: what it prints is its product.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod accounts;
mod archive;
mod conn;
mod fleet;
mod hist;
mod plot;
mod procfs;
mod scenario;
mod wire;

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use serde::Serialize;

use scenario::{archiver, connections, fanout, join, search, signups, storm};

/// Load generator and benchmarks for chat-server.
#[derive(Debug, Parser)]
#[command(name = "chat-bench", version, about)]
struct Cli {
    /// Runtime threads of the load generator (1: a single-threaded runtime).
    #[arg(long, global = true, default_value_t = 1)]
    threads: usize,
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Debug, Subcommand)]
enum Scenario {
    /// Hold N idle WebSockets; connect times and server memory per connection.
    Connections(connections::Args),
    /// R rooms, N connections, S senders: deliveries/s, latency, loss (fixed rate or --ramp).
    Fanout(fanout::Args),
    /// Fan-out with clients split across servers (--url A,B); reports
    /// cross-server latency separately.
    Cross(fanout::Args),
    /// Join latency with history.
    Join(join::Args),
    /// N connections (one account each) all join one room (or R rooms) at once.
    Storm(storm::Args),
    /// Publish to NATS at a rate; archive throughput and lag in PostgreSQL.
    Archiver(archiver::Args),
    /// `/api/me` latency alone and during bursts of sign-ups (bcrypt).
    Signups(signups::Args),
    /// `GET /api/search` latency on an archive filled first (e.g. 1,000,000 messages).
    Search(search::Args),
    /// Plot several ramp reports (JSON from `fanout --ramp --json`) as medians.
    Plot {
        /// Output SVG.
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value = "fan-out ramp")]
        title: String,
        /// Fan-out ramp reports.
        reports: Vec<PathBuf>,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let limit = procfs::raise_fd_limit();
    eprintln!("open-file limit: {limit}");
    let runtime = if cli.threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(cli.threads)
            .enable_all()
            .build()?
    };
    runtime.block_on(run(cli.scenario))
}

async fn run(scenario: Scenario) -> anyhow::Result<()> {
    match scenario {
        Scenario::Connections(args) => {
            let json = args.common.json.clone();
            emit(&connections::run(args).await?, json)
        }
        Scenario::Fanout(args) => {
            let json = args.common.json.clone();
            emit(&fanout::run(args, false).await?, json)
        }
        Scenario::Cross(args) => {
            let json = args.common.json.clone();
            emit(&fanout::run(args, true).await?, json)
        }
        Scenario::Join(args) => {
            let json = args.common.json.clone();
            emit(&join::run(args).await?, json)
        }
        Scenario::Storm(args) => {
            let json = args.common.json.clone();
            emit(&storm::run(args).await?, json)
        }
        Scenario::Archiver(args) => {
            let json = args.json.clone();
            emit(&archiver::run(args).await?, json)
        }
        Scenario::Signups(args) => {
            let json = args.json.clone();
            emit(&signups::run(args).await?, json)
        }
        Scenario::Search(args) => {
            let json = args.json.clone();
            emit(&search::run(args).await?, json)
        }
        Scenario::Plot {
            out,
            title,
            reports,
        } => {
            let mut runs = Vec::new();
            for path in &reports {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading {}", path.display()))?;
                let report: fanout::Report = serde_json::from_str(&text)
                    .with_context(|| format!("parsing {}", path.display()))?;
                runs.push(report.steps);
            }
            plot::latency_vs_load(&out, &runs, &title)?;
            eprintln!("wrote {}", out.display());
            Ok(())
        }
    }
}

/// Prints the report as JSON, and writes it to `json` too when given.
fn emit(report: &impl Serialize, json: Option<PathBuf>) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(report)?;
    println!("{text}");
    if let Some(path) = json {
        std::fs::write(&path, text + "\n")
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}
