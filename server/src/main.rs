//! `chat-server`: run the chat.

use chat_server::config::Command;
use clap::Parser;

// Every delivery allocates on a channel's thread and frees on a session's;
// mimalloc handles that cross-thread traffic far better than glibc's malloc
// (docs/benchmarks.md has the profile).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let mut config = chat_server::config::Config::parse();
    // An admin command prints its answer alone: no logging.
    if let Some(Command::Admin(admin)) = config.command.take() {
        let code = chat_server::admin::cli::run_and_report(admin, &config.nats).await;
        std::process::exit(code);
    }
    config.log.init();
    chat_server::startup::run(config).await
}
