export { type CreateAppOptions, createApp, type GatewayApp } from './app.js';
export { type GatewayConfig, gatewayEnvSchema } from './config.js';
export { type Clock, systemClock } from './http/context.js';
export { createGatewayMetrics, type GatewayMetrics } from './metrics/catalog.js';
export { GATEWAY_NODE_FLAGS } from './node-flags.js';
export { type GatewayServer, startServer } from './server.js';
