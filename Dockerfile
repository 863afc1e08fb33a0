# syntax=docker/dockerfile:1
# Builds chat-server, chat-bot and chat-archiver into one small runtime image.
# The entrypoint picks the binary: `chat-server` by default, or pass
# `chat-bot` / `chat-archiver` as the command (see compose.yaml).

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
# The dist profile: fat LTO, one codegen unit (slower to build, faster to run).
RUN cargo build --profile dist --locked -p chat-server -p chat-bot -p chat-archiver

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /data --create-home chat
COPY --from=build /src/target/dist/chat-server /src/target/dist/chat-bot /src/target/dist/chat-archiver /usr/local/bin/
USER chat
WORKDIR /data
ENV CHAT_BIND=0.0.0.0:8080 CHAT_DATA_DIR=/data
EXPOSE 8080
CMD ["chat-server"]
