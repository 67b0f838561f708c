# One image, two binaries: `todo-api` and `todo-worker`.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --bin todo-api --bin todo-worker

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* && useradd --system --uid 10001 todo
COPY --from=build /src/target/release/todo-api /src/target/release/todo-worker /usr/local/bin/
USER todo
EXPOSE 8000
CMD ["todo-api", "serve"]
