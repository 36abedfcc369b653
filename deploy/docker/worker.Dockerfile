# syntax=docker/dockerfile:1.7
# Build from the repository root: docker build -f deploy/docker/worker.Dockerfile .

# NOTE: tags are pinned by version; pin by digest as well (image@sha256:...) once the
# images are mirrored into the registry the cluster pulls from.
FROM node:20.20.2-bookworm-slim AS build
ENV CI=true
RUN corepack enable
WORKDIR /src

COPY package.json pnpm-lock.yaml pnpm-workspace.yaml ./
COPY gateway/package.json gateway/
COPY worker/package.json worker/
COPY scripts/package.json scripts/
COPY packages/common/package.json packages/common/
COPY packages/contracts/package.json packages/contracts/
COPY packages/client/package.json packages/client/
COPY packages/testkit/package.json packages/testkit/
# onnxruntime-node and sharp ship prebuilt glibc binaries inside their packages, so no
# install script has to run (pnpm skips them unless allowed).
RUN pnpm install --frozen-lockfile --filter "@medai-flow/worker..." --filter medai-flow

COPY tsconfig.base.json ./
COPY packages/common packages/common
COPY packages/contracts packages/contracts
COPY worker worker
RUN pnpm exec tsc -b worker \
 && pnpm --filter @medai-flow/worker deploy --prod --legacy /out \
 && mkdir -p /cache/models

# Distroless: node and glibc, no shell and no package manager; "nonroot" is uid 65532.
FROM gcr.io/distroless/nodejs20-debian12:nonroot AS runtime
ENV NODE_ENV=production \
    METRICS_PORT=9464 \
    MODEL_REPOSITORY=/app/models \
    MODEL_CACHE_DIR=/var/cache/medai/models
WORKDIR /app
COPY --from=build /out /app
# Only the manifests (model.json): .dockerignore keeps the .onnx files out. The worker
# downloads each file by the manifest's pinned URL and checks its SHA-256 at start, or
# takes it from MODEL_MIRROR_DIR when that is mounted.
COPY models /app/models
COPY --from=build --chown=65532:65532 /cache/models /var/cache/medai/models
USER 65532:65532
EXPOSE 9464
HEALTHCHECK --interval=15s --timeout=3s --start-period=120s --retries=3 \
  CMD ["/nodejs/bin/node", "-e", "fetch('http://127.0.0.1:'+(process.env.METRICS_PORT||9464)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["dist/main.js"]
