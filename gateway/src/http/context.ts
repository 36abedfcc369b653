import type { IncomingMessage } from 'node:http';
import type { Principal } from '../auth/principal.js';

/** Milliseconds since the epoch; injected so that tests can move time. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** Hono environment of the gateway. `incoming` is absent when tests call `app.request()`. */
export interface GatewayEnv {
  Bindings: { incoming?: IncomingMessage };
  Variables: {
    requestId: string;
    /** Set by the auth middleware on authenticated routes. */
    principal: Principal;
    /** Headers of every response to the request: security headers, request id, rate-limit state. */
    responseHeaders: Record<string, string>;
    /** The response `respond()` built, which carries `responseHeaders` already. */
    respondedWith: Response;
  };
}
