# Portcullis in one image: the web app built in, a release binary, run as a non-root user.
# Build:  docker build -t portcullis .
# Run:    docker run -p 8080:8080 -v portcullis-data:/var/lib/portcullis portcullis
# (SQLite in the volume by default; set DATABASE_URL=postgres://… for several nodes,
# see docs/DEPLOYMENT.md.) Not built in this repository's CI: it has no Docker engine.

# 1. The web app (Angular) → web/dist/browser
FROM node:20-bookworm-slim AS web
WORKDIR /src/web
COPY web/package.json web/package-lock.json ./
RUN npm ci
COPY web/ ./
RUN npm run build

# 2. The release binary, with web/dist/browser embedded (rust-embed reads it at compile time)
FROM rust:1-bookworm AS rust
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src/ src/
COPY examples/ examples/
COPY benches/ benches/
COPY --from=web /src/web/dist/browser/ web/dist/browser/
RUN cargo build --release --locked --bin portcullis \
 && test -f web/dist/browser/index.html

# 3. Runtime: the binary alone, as an unprivileged user
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libssl3 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 portcullis \
 && useradd --system --uid 10001 --gid portcullis --home-dir /var/lib/portcullis --shell /usr/sbin/nologin portcullis \
 && mkdir -p /var/lib/portcullis \
 && chown portcullis:portcullis /var/lib/portcullis
COPY --from=rust /src/target/release/portcullis /usr/local/bin/portcullis
ENV PORTCULLIS_BIND=0.0.0.0:8080 \
    DATABASE_URL=sqlite:///var/lib/portcullis/portcullis.db
VOLUME /var/lib/portcullis
WORKDIR /var/lib/portcullis
USER 10001:10001
EXPOSE 8080
# Probe GET /health/ready (database reachable) from the orchestrator or the proxy.
ENTRYPOINT ["portcullis"]
CMD ["serve"]
