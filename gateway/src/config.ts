import { booleanFromEnv, sharedEnvSchema } from '@medai-flow/common';
import { z } from 'zod';

const MIN_HS256_SECRET_BYTES = 32;

const positiveInt = () => z.coerce.number().int().positive();

/** A comma-separated list in one variable; empty entries are dropped. */
const commaList = z
  .string()
  .default('')
  .transform((value) =>
    value
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item.length > 0),
  );

/** Longest `Prefer: wait` the gateway honours, in seconds; larger values are capped to it. */
export const MAX_PREFER_WAIT_SECONDS = 60;

/** `model=depth` pairs, comma-separated, as a map from model name to maximum queue depth. */
const depthOverrides = commaList.transform((pairs, context) => {
  const depths = new Map<string, number>();
  for (const pair of pairs) {
    const match = /^([a-z0-9][a-z0-9._-]{0,62})=([1-9][0-9]{0,8})$/.exec(pair);
    if (!match?.[1] || !match[2]) {
      context.addIssue({
        code: 'custom',
        message: `"${pair.slice(0, 80)}" must be model=depth, with a positive whole depth`,
      });
      return z.NEVER;
    }
    depths.set(match[1], Number(match[2]));
  }
  return depths;
});

/**
 * Builds a `when` predicate for an object refinement: true when none of `fields` has an issue
 * yet, so the refinement reads only values that parsed.
 */
function fieldsParsed(fields: readonly string[]): (payload: z.core.ParsePayload) => boolean {
  return (payload) => payload.issues.every((issue) => !fields.includes(String(issue.path?.[0])));
}

/**
 * The gateway's environment: the shared settings plus everything below. Every variable is
 * documented with its default and unit in gateway/README.md.
 */
export const gatewayEnvSchema = sharedEnvSchema
  .extend({
    /** HTTP port; 0 takes any free port (the bound port is logged). */
    PORT: z.coerce.number().int().min(0).max(65_535).default(8080),
    /** Address the HTTP server binds to. */
    HOST: z.string().min(1).default('0.0.0.0'),
    /** HS256 secret; empty counts as unset, so the key-source check below ignores it. */
    AUTH_JWT_SECRET: z
      .string()
      .optional()
      .refine((secret) => !secret || Buffer.byteLength(secret) >= MIN_HS256_SECRET_BYTES, {
        message: `must be at least ${MIN_HS256_SECRET_BYTES} bytes`,
      }),
    AUTH_JWT_PUBLIC_KEY: z.string().optional(),
    AUTH_JWKS_URL: z.url({ protocol: /^https?$/ }).optional(),
    /** Allows an HS256 secret while NODE_ENV is production; meant for single-host trials only. */
    AUTH_ALLOW_HS256_IN_PRODUCTION: booleanFromEnv.default(false),
    AUTH_ISSUER: z.string().min(1).optional(),
    AUTH_AUDIENCE: z.string().min(1).optional(),
    /** Algorithms accepted, comma-separated; empty means every algorithm that fits the key type. */
    AUTH_ALGORITHMS: commaList,
    /** Leeway for `exp`, `nbf` and `iat`, in seconds. */
    AUTH_CLOCK_TOLERANCE_SECONDS: z.coerce.number().int().min(0).max(300).default(30),
    /** Maximum token lifetime accepted (`exp` minus now), in seconds; also how long a subject revocation is kept. */
    AUTH_MAX_TOKEN_LIFETIME_SECONDS: positiveInt().default(86_400),
    /** Timeout of one JWKS fetch, in milliseconds. */
    AUTH_JWKS_TIMEOUT_MS: positiveInt().default(5_000),
    /** Shortest time between two JWKS fetches triggered by an unknown `kid`, in milliseconds. */
    AUTH_JWKS_COOLDOWN_MS: z.coerce.number().int().min(0).default(30_000),
    /** Age after which the JWKS is fetched again even without an unknown `kid`, in milliseconds. */
    AUTH_JWKS_CACHE_MAX_AGE_MS: positiveInt().default(300_000),
    /** Maximum time a verified token is reused without checking its signature again, in seconds. */
    AUTH_TOKEN_CACHE_SECONDS: positiveInt().default(300),
    /** Number of verified tokens kept in memory. */
    AUTH_TOKEN_CACHE_SIZE: positiveInt().default(10_000),
    /** Request body limit, in bytes. */
    MAX_BODY_BYTES: positiveInt().default(33_554_432),
    /**
     * Request body limit of JSON tensor submissions, in bytes. Parsing JSON blocks the event loop
     * and takes many times the body's size in memory, so it is lower than `MAX_BODY_BYTES`.
     */
    MAX_JSON_BODY_BYTES: positiveInt().default(8_388_608),
    /** Request header limit (request line and all headers), in bytes. */
    MAX_HEADER_BYTES: positiveInt().default(16_384),
    /** Time a client has to send all request headers, in milliseconds. */
    HEADERS_TIMEOUT_MS: positiveInt().default(10_000),
    /** Time a client has to send a whole request, body included, in milliseconds. */
    REQUEST_TIMEOUT_MS: positiveInt().default(120_000),
    /**
     * Time open requests get to finish after SIGTERM before their connections are closed, in
     * seconds. Keep it below the pod's termination grace period (70 s in deploy/k8s).
     */
    SHUTDOWN_GRACE_SECONDS: positiveInt().default(20),
    /** Idle time after which a keep-alive connection is closed, in milliseconds. */
    KEEP_ALIVE_TIMEOUT_MS: positiveInt().default(5_000),
    /** Per-subject limit on authenticated routes, requests per minute (also the burst size). */
    RATE_LIMIT_PER_MINUTE: positiveInt().default(600),
    /** Per-subject limit for tokens with the `admin` permission, requests per minute. */
    RATE_LIMIT_ADMIN_PER_MINUTE: positiveInt().default(1_200),
    /** Per-address limit on unauthenticated routes, requests per minute. */
    RATE_LIMIT_ANON_PER_MINUTE: positiveInt().default(120),
    /** CIDRs of proxies whose `X-Forwarded-For` is believed, comma-separated. */
    TRUSTED_PROXIES: commaList,
    /** Origins allowed by CORS, comma-separated; empty turns CORS off. */
    CORS_ALLOWED_ORIGINS: commaList,
    /** Timeout of every Redis command the gateway sends, in milliseconds. */
    REDIS_COMMAND_TIMEOUT_MS: positiveInt().default(1_000),
    /** `Retry-After` sent with a 503 while Redis is unavailable, in seconds. */
    REDIS_RETRY_AFTER_SECONDS: positiveInt().default(2),
    /** How long the published model list is reused before it is read from Redis again, in milliseconds. */
    MODEL_CACHE_MS: z.coerce.number().int().min(0).default(1_000),
    /** `Retry-After` of a 202 response to a submission, in seconds. */
    JOB_RETRY_AFTER_SECONDS: positiveInt().default(1),
    /** How long an accepted Idempotency-Key and its request fingerprint are kept, in seconds. */
    IDEMPOTENCY_TTL_SECONDS: positiveInt().default(86_400),
    /** How long `POST /v2/models/{model}/infer` waits for the job before it responds 202, in seconds. */
    V2_INFER_WAIT_SECONDS: positiveInt().max(MAX_PREFER_WAIT_SECONDS).default(MAX_PREFER_WAIT_SECONDS),
    /** Interval at which a waiting request reads its job again in case a job-ended message was missed, in milliseconds. */
    JOB_WAIT_POLL_MS: positiveInt().default(1_000),
    /** Queued (waiting + prioritized) jobs per model beyond which submissions get 503 `queue-full`. */
    QUEUE_MAX_DEPTH: positiveInt().default(1_000),
    /** Per-model bounds that replace QUEUE_MAX_DEPTH, as comma-separated `model=depth` pairs. */
    QUEUE_MAX_DEPTH_OVERRIDES: depthOverrides,
    /** Unfinished jobs one subject may have across all models; more get 429 `quota-exceeded`. */
    QUEUE_MAX_JOBS_PER_SUBJECT: positiveInt().default(100),
    /** Input bytes the unfinished jobs of one subject may hold across all models; more get 429 `quota-exceeded`. */
    QUEUE_MAX_BYTES_PER_SUBJECT: positiveInt().default(536_870_912),
    /** `Retry-After` of a 429 `quota-exceeded`, in seconds. */
    QUEUE_QUOTA_RETRY_AFTER_SECONDS: positiveInt().default(10),
    /** Largest `Retry-After` of a 503 `queue-full`, also sent while no job of the model has ended lately, in seconds. */
    QUEUE_FULL_MAX_RETRY_AFTER_SECONDS: positiveInt().default(120),
    /** Commit the build came from, reported by /version. */
    GIT_COMMIT: z.string().min(1).max(64).default('unknown'),
  })
  // Cross-field checks. Zod skips an object's refinements once a field failed, so `when` runs
  // each one as long as the fields it reads parsed, and one start-up reports every bad variable.
  .superRefine(
    (env, context) => {
      const sources = [env.AUTH_JWT_SECRET, env.AUTH_JWT_PUBLIC_KEY, env.AUTH_JWKS_URL].filter(
        (value) => value !== undefined && value !== '',
      );
      if (sources.length !== 1) {
        context.addIssue({
          code: 'custom',
          path: ['AUTH_JWT_SECRET'],
          message: `exactly one of AUTH_JWT_SECRET, AUTH_JWT_PUBLIC_KEY or AUTH_JWKS_URL must be set (found ${sources.length})`,
        });
      }
    },
    // Only which variables are set matters here, so the check runs even when their values are invalid.
    { when: () => true },
  )
  .superRefine(
    (env, context) => {
      const hasSecret = env.AUTH_JWT_SECRET !== undefined && env.AUTH_JWT_SECRET !== '';
      if (hasSecret && env.NODE_ENV === 'production' && !env.AUTH_ALLOW_HS256_IN_PRODUCTION) {
        context.addIssue({
          code: 'custom',
          path: ['AUTH_JWT_SECRET'],
          message:
            'an HS256 secret is rejected in production; use AUTH_JWKS_URL or AUTH_JWT_PUBLIC_KEY, or set AUTH_ALLOW_HS256_IN_PRODUCTION=true',
        });
      }
    },
    { when: fieldsParsed(['NODE_ENV', 'AUTH_ALLOW_HS256_IN_PRODUCTION']) },
  )
  .superRefine(
    (env, context) => {
      if (env.HEADERS_TIMEOUT_MS > env.REQUEST_TIMEOUT_MS) {
        context.addIssue({
          code: 'custom',
          path: ['HEADERS_TIMEOUT_MS'],
          message: 'must not exceed REQUEST_TIMEOUT_MS',
        });
      }
    },
    { when: fieldsParsed(['HEADERS_TIMEOUT_MS', 'REQUEST_TIMEOUT_MS']) },
  );

export type GatewayConfig = z.infer<typeof gatewayEnvSchema>;
