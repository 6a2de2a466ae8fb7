# Elektromail as a container: compile a single binary, then run it on a small image.
#
#   docker build -t elektromail .
#   docker run --rm -p 2525:2525 -p 1143:1143 -p 1110:1110 -p 8025:8025 elektromail
#
# Configured by environment only (see the README); the image listens on all interfaces and
# turns the HTTP control plane on at 8025. HEALTHCHECK runs the program's own probe.

FROM denoland/deno:2.9.6 AS build
WORKDIR /src
COPY deno.json deno.lock main.ts compile.sh ./
COPY lib ./lib
# `host`: the image's own architecture (build with --platform for the other one).
RUN ./compile.sh host && cp dist/elektromail-linux-* /elektromail

# glibc and libgcc, as the Deno runtime needs; no shell, no package manager.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /elektromail /usr/local/bin/elektromail
ENV BIND_ADDR=0.0.0.0 \
    SMTP_PORT=2525 \
    IMAP_PORT=1143 \
    POP3_PORT=1110 \
    HTTP_PORT=8025
EXPOSE 2525 1143 1110 8025
# With ELEKTROMAIL_DB=/data/mail.db, mount a volume writable by uid 65532 (nonroot) at /data.
WORKDIR /data
HEALTHCHECK --interval=10s --timeout=6s --start-period=5s --retries=3 \
  CMD ["/usr/local/bin/elektromail", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/elektromail"]
