# voxgan-serve in a container: build with the Swift toolchain image and the -dev packages, run
# on slim Debian with only the runtime libraries, the three executables, Models/ and Public/.
#
#   docker build -t voxgan .
#   docker run --rm -p 127.0.0.1:8080:8080 voxgan        # then open http://localhost:8080/
#
# Both stages are Debian 12 (bookworm), so the libraries the build links against are the ones
# the runtime stage installs.

# ---- build ------------------------------------------------------------------------------------
# The toolchain the project is tested with; any 6.x image on bookworm should do.
ARG SWIFT_VERSION=6.3
FROM swift:${SWIFT_VERSION}-bookworm AS build

# Debian stable only ships security fixes within a release, so the names fix the versions;
# pinning exact patch versions would break the build at the next security update.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        pkg-config libopenblas-dev libhdf5-dev libpng-dev libmicrohttpd-dev \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY . .

# The Swift runtime and Foundation are linked in, so the runtime stage needs no toolchain.
RUN swift build -c release --static-swift-stdlib --product voxgan-serve \
    && swift build -c release --static-swift-stdlib --product voxgan \
    && swift build -c release --static-swift-stdlib --product voxgan-train \
    && mkdir -p /out/bin Models \
    && cp .build/release/voxgan-serve .build/release/voxgan .build/release/voxgan-train /out/bin/

# ---- run --------------------------------------------------------------------------------------
FROM debian:bookworm-slim

# Runtime libraries only (no -dev packages); libjs-three is the viewer's three.js; curl is for
# the health check.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libopenblas0 libhdf5-103-1 libpng16-16 libmicrohttpd12 libjs-three curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /opt/voxgan \
        --shell /usr/sbin/nologin voxgan

WORKDIR /opt/voxgan
COPY --from=build /out/bin/ /usr/local/bin/
COPY --from=build /src/Models/ ./Models/
COPY --from=build /src/Public/ ./Public/

# The numeric id, so that the host and Kubernetes' runAsNonRoot can check it.
USER 10001:10001

# Inside the container the server must listen on every interface for -p to reach it; publish
# it on the host's loopback (-p 127.0.0.1:8080:8080) unless it is meant to be public.
ENV VOXGAN_HOST=0.0.0.0 \
    VOXGAN_PORT=8080 \
    VOXGAN_WEIGHTS=/opt/voxgan/Models/chairs32.h5 \
    VOXGAN_PUBLIC=/opt/voxgan/Public \
    VOXGAN_THREE_DIR=/usr/share/javascript/three
EXPOSE 8080

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["sh", "-c", "curl -fsS -o /dev/null http://127.0.0.1:8080/healthz || exit 1"]

# SIGTERM lets requests in progress finish, then the server exits 0.
STOPSIGNAL SIGTERM
CMD ["voxgan-serve", "--host", "0.0.0.0", "--port", "8080"]
