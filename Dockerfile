# The `hft` image: one executable that runs the backend (`hft serve`, the default), a load client
# (`hft load`), the aggregator (`hft aggregate`) or the one-machine test (`hft run`).
#
#   docker build -t hft:0.1.0 .
#   docker run --rm -p 8000:8000 -v hft-data:/var/lib/hft/data hft:0.1.0
#   docker run --rm hft:0.1.0 load --api-url http://HOST:8000 --client-id 1 --duration 30

ARG DEBIAN_IMAGE=debian:bookworm-slim

# Build stage: the same package script and CMake build as CI, without tests and benchmarks.
FROM ${DEBIAN_IMAGE} AS build
WORKDIR /src
# The package script is copied alone first, so its layer stays cached while the sources change.
COPY scripts/install-deps.sh scripts/install-deps.sh
RUN scripts/install-deps.sh --build-only && rm -rf /var/lib/apt/lists/*
COPY . .
RUN cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DHFT_BUILD_TESTS=OFF -DHFT_BUILD_BENCH=OFF \
 && cmake --build build --parallel --target hft \
 && strip --strip-unneeded build/src/cli/hft

# Runtime stage: the binary, the Debian packages of the shared libraries it links, and curl for
# the health check. tests/deploy checks this list against the libraries that a fresh build links.
FROM ${DEBIAN_IMAGE} AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libstdc++6 libgcc-s1 zlib1g libfmt9 libspdlog1.10 libsimdjson14 libsodium23 libpq5 \
      libhiredis0.14 \
      curl \
 && rm -rf /var/lib/apt/lists/*

RUN groupadd --gid 10001 hft \
 && useradd --uid 10001 --gid hft --no-create-home --home-dir /var/lib/hft --shell /usr/sbin/nologin hft \
 && mkdir -p /var/lib/hft/data \
 && chown -R hft:hft /var/lib/hft

COPY --from=build /src/build/src/cli/hft /usr/local/bin/hft

USER hft:hft
WORKDIR /var/lib/hft
ENV HOST=0.0.0.0 \
    PORT=8000 \
    DATA_DIR=/var/lib/hft/data
# The journal lives here; a named volume keeps it across container restarts.
VOLUME ["/var/lib/hft/data"]
EXPOSE 8000

HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD curl --fail --silent --show-error --max-time 2 "http://127.0.0.1:${PORT}/health" || exit 1

ENTRYPOINT ["hft"]
CMD ["serve"]
