# Kindred: one static binary on a distroless, non-root base.
#
#   docker build -t kindred .
#   docker run -d --name kindred -p 8080:8080 -v kindred-data:/data --stop-timeout 15 kindred
#   docker exec kindred /usr/local/bin/kindred token --sub ann --role specialist
#
# The image has no shell, so it has no HEALTHCHECK: probe over HTTP from the
# orchestrator instead, GET /healthz (liveness) and GET /readyz (readiness,
# 503 while the store is unreachable or the node is shutting down).

# Must be at least the go line of go.mod: the golang images set
# GOTOOLCHAIN=local and will not fetch a newer toolchain.
ARG GO_VERSION=1.26

FROM golang:${GO_VERSION} AS build
WORKDIR /src
ENV CGO_ENABLED=0
# Modules first, in their own layer: it is rebuilt only when go.mod or
# go.sum change, not on every source edit.
COPY go.mod go.sum ./
RUN go mod download && go mod verify
COPY . .
RUN go build -trimpath -ldflags "-s -w" -o /out/kindred ./cmd/kindred \
 && mkdir -p /out/root && mkdir -m 0700 /out/root/data

FROM gcr.io/distroless/static-debian12:nonroot
LABEL org.opencontainers.image.title="Kindred" \
      org.opencontainers.image.description="Peer-support chat server" \
      org.opencontainers.image.source="https://github.com/kindred-health/kindred"
COPY --from=build /out/kindred /usr/local/bin/kindred
# /data is copied as an entry (not created implicitly) so that it belongs to
# the nonroot user (65532); a new named volume mounted on it inherits that.
COPY --from=build --chown=65532:65532 /out/root/ /
ENV KINDRED_DATA=/data \
    KINDRED_ADDR=0.0.0.0:8080
VOLUME /data
EXPOSE 8080
# Numeric, so that runAsNonRoot checks can verify it.
USER 65532:65532
# SIGTERM (docker stop) shuts down gracefully: sessions are closed with
# 1001 and accepted writes are committed, within --shutdown-timeout (10s).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/kindred"]
CMD ["serve"]
