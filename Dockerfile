# syntax=docker/dockerfile:1
# Build: a static binary, no cgo, stamped with its version (app version).
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG REVISION=unknown
ARG CREATED=unknown
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false \
    -ldflags="-s -w -X mitosis/platform/buildinfo.version=${VERSION} -X mitosis/platform/buildinfo.commit=${REVISION} -X mitosis/platform/buildinfo.buildTime=${CREATED}" \
    -o /out/app .

# Run: distroless, non-root, no shell: health checks run `/app health`
# (compose) or probe /health/* over HTTP (Kubernetes), so the image has no
# HEALTHCHECK. The image is production by default, so SERVICE_SECRET (or
# SERVICE_API_KEY), SIGNING_KEY_SECRET where users runs, and DATABASE_URL
# must be provided (startup names everything missing; `app check` too).
FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION=dev
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="mitosis" \
      org.opencontainers.image.description="A modular monolith that divides into services: one image, any placement of its modules" \
      org.opencontainers.image.base.name="gcr.io/distroless/static-debian12:nonroot" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}"
COPY --from=build /out/app /app
# 8080: the public API (HTTP_ADDR); 9090: the admin listener (ADMIN_ADDR).
ENV APP_ENV=production \
    HTTP_ADDR=:8080 \
    ADMIN_ADDR=:9090
EXPOSE 8080 9090
USER nonroot:nonroot
ENTRYPOINT ["/app"]
CMD ["serve"]
