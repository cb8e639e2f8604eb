# Nabla: one image for every role (coordinator, worker, monitor). See docs/DOCKER.md.
#
#   docker build -t nabla:local .                                           # with internet: node:20-bookworm-slim + npm ci
#   scripts/docker/build-base-image.sh nabla-base:local                     # offline: a base image from this host's node
#   docker build --build-arg BASE_IMAGE=nabla-base:local -t nabla:local .   # ... and node_modules from the build context
#
# The runtime stage uses the same base as the build stage, so native addons (nblas → OpenBLAS, msgpackr-extract,
# bufferutil) run against the Node and libraries they were built for.
ARG BASE_IMAGE=node:20-bookworm-slim

FROM ${BASE_IMAGE} AS build
# Marks the build stage's (untagged) images, so they can be pruned alone:
#   docker image prune -f --filter label=nabla.stage=build
LABEL nabla.stage=build
WORKDIR /src
COPY . .
# Offline path: a node_modules in the build context is used as it is (it must come from `npm ci` on a machine with
# the base image's Node and libc); only without one does npm run, and only then is the network needed.
# --build-arg NPM_CI=always reinstalls anyway (e.g. node_modules from a macOS host).
ARG NPM_CI=auto
RUN if [ "$NPM_CI" != always ] && [ -d node_modules ]; then echo "nabla: using node_modules from the build context; npm ci skipped"; \
    else npm ci --no-audit --no-fund; fi
# Compiles the CLI and keeps only what runs: /out/app (dist, production node_modules, healthcheck), /out/volumes.
RUN ["node", "scripts/docker/prepare-app.mjs", "/src", "/out"]

FROM ${BASE_IMAGE}
LABEL org.opencontainers.image.title="nabla" \
      org.opencontainers.image.description="Distributed data-parallel trainer: coordinator, workers and monitor in one image"
COPY --from=build /out/app /app
COPY --from=build --chown=1000:1000 /out/volumes/ /
WORKDIR /app
# uid 1000 is the user `node` in node:*-bookworm images and in nabla-base:local; numeric so that
# runAsNonRoot-style checks can verify it.
USER 1000:1000
EXPOSE 8080
# The coordinator must answer GET /healthz; workers and the monitor are healthy while they run (healthcheck.mjs
# reads the role from the container's command line).
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 CMD ["node", "/app/healthcheck.mjs"]
ENTRYPOINT ["node", "/app/dist/bin/nabla.js"]
CMD ["--help"]
