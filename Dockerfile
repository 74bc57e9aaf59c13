# The Coflux server image. Built offline: `make image` (scripts/image.ts) stages this file's
# context in dist/image/ — dist/coflux as /usr/local/bin/coflux, the C libraries it links, the
# CA certificates — so the image needs no base image and no registry.
#
#   docker run -p 7777:7777 -v coflux-data:/data -e COFLUX_SUPER_TOKEN=… coflux:latest
#
# Settings are the server's environment variables (README, "Running the server in Docker").
FROM scratch
COPY rootfs/ /
ENV PATH=/usr/local/bin \
    HOME=/root \
    PORT=7777 \
    COFLUX_DATA_DIR=/data \
    COFLUX_BIND=0.0.0.0
VOLUME /data
EXPOSE 7777
ENTRYPOINT ["coflux", "server"]
