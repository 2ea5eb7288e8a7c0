# sigflow in a container, on Debian's base image (docs/operating.md "Container").
#   docker build -t sigflow .
#   docker run -d -p 8088:8088 -p 9464:9464 -v sigflow-state:/var/lib/sigflow sigflow
# Your config: -v /path/to/sigflow.ini:/etc/sigflow/sigflow.ini:ro (listen on 0.0.0.0 inside
# the container; publish the ports on the host's loopback unless they must be reachable).
FROM debian:bookworm-slim AS build
# The build packages of .ci/packages (the libraries' -dev packages; cmocka because the
# Makefile checks for every library it knows before it builds anything).
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
       build-essential pkg-config libcurl4-openssl-dev libjson-c-dev libinih-dev \
       libmicrohttpd-dev libsqlite3-dev libssl-dev libcmocka-dev man-db \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN make -j"$(nproc)" all PREFIX=/usr \
    && make install PREFIX=/usr SYSCONFDIR=/etc LOCALSTATEDIR=/var DESTDIR=/out \
    && sed -i -e 's/^ingest *= *127\.0\.0\.1:/ingest    = 0.0.0.0:/' \
              -e 's/^admin *= *127\.0\.0\.1:/admin     = 0.0.0.0:/' /out/etc/sigflow/sigflow.ini

FROM debian:bookworm-slim
# The runtime libraries of those -dev packages, tzdata (delivery hours), CA certificates
# (HTTPS deliveries and polls) and curl (the health check).
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
       libcurl4 libjson-c5 libinih1 libmicrohttpd12 libsqlite3-0 libssl3 \
       tzdata ca-certificates curl \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/ /
RUN useradd --system --home-dir /var/lib/sigflow --shell /usr/sbin/nologin sigflow \
    && chown sigflow:sigflow /var/lib/sigflow \
    && chmod 0750 /var/lib/sigflow \
    && sigflow check -c /etc/sigflow/sigflow.ini
USER sigflow
VOLUME /var/lib/sigflow
# ingest (webhooks), admin (/healthz, /metrics, the admin API)
EXPOSE 8088 9464
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s \
    CMD curl -fsS http://127.0.0.1:9464/healthz || exit 1
# --init creates the store on the first start of an empty volume and only what is missing
# after that (docs/reliability.md).
ENTRYPOINT ["sigflow"]
CMD ["run", "--init", "-c", "/etc/sigflow/sigflow.ini"]
