# Image built by GoReleaser (dockers_v2 in .goreleaser.yaml) from the release binaries:
# the build context holds linux/amd64/tokenward and linux/arm64/tokenward.
# To build an image from source, use the root Dockerfile.
FROM gcr.io/distroless/static-debian12:nonroot
ARG TARGETPLATFORM
COPY $TARGETPLATFORM/tokenward /usr/local/bin/tokenward
USER nonroot:nonroot
WORKDIR /scan
ENTRYPOINT ["/usr/local/bin/tokenward"]
CMD ["scan", "."]
