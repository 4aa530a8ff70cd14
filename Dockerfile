# syntax=docker/dockerfile:1
# Build: a static binary, no cgo.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/app .

# Run: distroless, non-root. The image is production by default, so
# SERVICE_SECRET (or SERVICE_API_KEY), SIGNING_KEY_SECRET where users runs, and
# DATABASE_URL must be provided (startup names what is missing).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/app /app
ENV APP_ENV=production \
    HTTP_ADDR=:8080
EXPOSE 8080
USER nonroot:nonroot
ENTRYPOINT ["/app"]
CMD ["serve"]
