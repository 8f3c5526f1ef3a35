# syntax=docker/dockerfile:1
# tokenward from source: a static binary (CGO_ENABLED=0) on a distroless base that
# holds CA certificates and nothing else (no shell, no package manager), run as the
# unprivileged user nonroot (uid 65532).
#
#   docker build -t tokenward .
#   docker build --build-arg VERSION=v1.2.3 -t tokenward:v1.2.3 .
#   docker run --rm -v "$PWD:/scan" tokenward             # scan . (the mounted directory)
#   docker run --rm -v "$PWD:/scan" tokenward git .       # its git history
#
# Cross-builds (docker buildx build --platform linux/arm64 .) compile on the build
# machine's platform with GOOS/GOARCH set, so no emulation is needed.
ARG GO_VERSION=1.26

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG TARGETOS
ARG TARGETARCH
# Empty: `tokenward version` prints "dev" (.git is not in the build context).
ARG VERSION=""
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -buildvcs=false -ldflags "-s -w -X main.version=${VERSION}" \
      -o /out/tokenward ./cmd/tokenward

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/tokenward /usr/local/bin/tokenward
USER nonroot:nonroot
WORKDIR /scan
ENTRYPOINT ["/usr/local/bin/tokenward"]
CMD ["scan", "."]
