//! `chat-server`: run the chat.

use clap::Parser;

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    chat_shared::process::init_logging();
    let config = chat_server::config::Config::parse();
    chat_server::startup::run(config).await
}
