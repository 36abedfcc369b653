# syntax=docker/dockerfile:1.7
# Build from the repository root: docker build -f deploy/docker/gateway.Dockerfile .

# NOTE: tags are pinned by version; pin by digest as well (image@sha256:...) once the
# images are mirrored into the registry the cluster pulls from.
FROM node:20.20.2-bookworm-slim AS build
ENV CI=true
RUN corepack enable
WORKDIR /src

# Manifests first, so that the dependency layer is reused while only sources change.
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml ./
COPY gateway/package.json gateway/
COPY worker/package.json worker/
COPY scripts/package.json scripts/
COPY packages/common/package.json packages/common/
COPY packages/contracts/package.json packages/contracts/
COPY packages/client/package.json packages/client/
COPY packages/testkit/package.json packages/testkit/
RUN pnpm install --frozen-lockfile --filter "@medai-flow/gateway..." --filter medai-flow

COPY tsconfig.base.json ./
COPY packages/common packages/common
COPY packages/contracts packages/contracts
COPY gateway gateway
RUN pnpm exec tsc -b gateway \
 && pnpm --filter @medai-flow/gateway deploy --prod --legacy /out

# Distroless: node and glibc, no shell and no package manager; "nonroot" is uid 65532.
FROM gcr.io/distroless/nodejs20-debian12:nonroot AS runtime
ARG GIT_COMMIT=unknown
ENV NODE_ENV=production \
    PORT=8080 \
    GIT_COMMIT=${GIT_COMMIT}
WORKDIR /app
COPY --from=build /out /app
USER 65532:65532
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["/nodejs/bin/node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# The distroless entry point is node itself. The flags are GATEWAY_NODE_FLAGS of
# gateway/src/node-flags.ts, which explains them; deploy/test checks that both agree.
CMD ["--max-semi-space-size=32", "dist/main.js"]
