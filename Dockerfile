# flagwatch container image.
#
#   docker build -t flagwatch .
#   docker run -p 4242:4242 flagwatch                       # embedded SQLite in /var/lib/flagwatch
#   docker run -p 4242:4242 -e DATABASE_URL=postgres://... flagwatch
#
# Works with the classic builder and with BuildKit (no cache mounts needed).

ARG RUST_VERSION=1.95

############################
# Builder
############################
FROM rust:${RUST_VERSION}-slim-bookworm AS builder
WORKDIR /build

# 1. Dependencies only: build the locked dependency graph against stub sources, so
#    this layer is reused until Cargo.toml / Cargo.lock (or build.rs) change.
#    `build.rs*` is a glob so the COPY also works while the crate has no build script.
COPY Cargo.toml Cargo.lock build.rs* ./
RUN mkdir -p src \
 && echo 'fn main() {}' > src/main.rs \
 && echo '' > src/lib.rs \
 && cargo build --release --locked \
 && rm -rf src \
    target/release/flagwatch* target/release/libflagwatch* \
    target/release/deps/flagwatch-* \
    target/release/deps/libflagwatch-* \
    target/release/.fingerprint/flagwatch-*

# 2. The real crate. migrations/ is embedded at compile time by sqlx::migrate!, and ui/
#    (the web UI) by include_bytes!, so both must be present before the build.
COPY migrations ./migrations
COPY ui ./ui
COPY src ./src
# Copied files keep their (possibly old) mtimes; make sure cargo rebuilds the crate.
RUN touch src/main.rs src/lib.rs \
 && cargo build --release --locked \
 && install -Dm755 target/release/flagwatch /out/flagwatch

############################
# Runtime
############################
FROM debian:bookworm-slim AS runtime

RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 flagwatch \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/flagwatch \
            --no-create-home --shell /usr/sbin/nologin flagwatch \
 && install -d -o flagwatch -g flagwatch -m 0750 /var/lib/flagwatch

COPY --from=builder /out/flagwatch /usr/local/bin/flagwatch

# The SQLite default (./flagwatch.db) lands here; mount a volume on it to keep data.
WORKDIR /var/lib/flagwatch
USER 10001:10001

ENV PORT=4242
EXPOSE 4242

# No HEALTHCHECK: the image has no curl; orchestrators can probe the HTTP port instead.
ENTRYPOINT ["/usr/local/bin/flagwatch"]
