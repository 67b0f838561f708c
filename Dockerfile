# One image, two binaries: `todo-api` (which embeds the web app) and `todo-worker`.
FROM node:20-bookworm-slim AS web
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web/ ./
RUN npm run build

FROM rust:1.95-bookworm AS build
WORKDIR /src
# The query! macros check the SQL against the committed .sqlx/ (copied with
# the sources), not a database: the image builds without one.
ENV SQLX_OFFLINE=true
COPY . .
COPY --from=web /web/dist web/dist
RUN cargo build --release --bin todo-api --bin todo-worker

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* && useradd --system --uid 10001 todo
COPY --from=build /src/target/release/todo-api /src/target/release/todo-worker /usr/local/bin/
USER todo
EXPOSE 8000
CMD ["todo-api", "serve"]
