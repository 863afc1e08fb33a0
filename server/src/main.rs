//! `chat-server`: run the chat.

use clap::Parser;

// Every delivery allocates on a channel's thread and frees on a session's;
// mimalloc handles that cross-thread traffic far better than glibc's malloc
// (docs/benchmarks.md has the profile).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let config = chat_server::config::Config::parse();
    config.log.init();
    chat_server::startup::run(config).await
}
