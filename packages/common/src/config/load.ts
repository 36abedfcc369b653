import { z } from 'zod';

/** A configuration value is missing or invalid; `issues` has one line per variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly issues: string[]) {
    super(`invalid configuration: ${issues.join('; ')}`);
  }
}

/**
 * Parses the environment with `schema` once. Throws a `ConfigError` naming every bad
 * variable and what it needs; values are never echoed, since some are secrets.
 */
export function loadConfig<T extends z.ZodType>(schema: T, env: NodeJS.ProcessEnv = process.env): z.infer<T> {
  const parsed = schema.safeParse(env);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map(
    (issue) => `${issue.path.join('.') || '(environment)'}: ${issue.message}`,
  );
  throw new ConfigError(issues);
}

/** Environment strings "true"/"1"/"yes" and "false"/"0"/"no" as a boolean. */
export const booleanFromEnv = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

/** Settings both services share. */
export const sharedEnvSchema = z.object({
  NODE_ENV: z.enum(['production', 'development', 'test']).default('production'),
  REDIS_URL: z
    .string({ message: 'is required (redis://host:port or rediss://host:port)' })
    .regex(/^rediss?:\/\/.+/, 'must be a redis:// or rediss:// URL'),
  /** First part of every Redis key this deployment writes, so several deployments or tests can share one server. */
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1 to 64 letters, digits, "_" or "-"')
    .default('medai'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** How long a finished job and its result are kept, in seconds. */
  RESULT_TTL_SECONDS: z.coerce.number().int().min(1).default(86_400),
  /** How long after its result expired a job still answers 410 instead of 404, in seconds. */
  GONE_TTL_SECONDS: z.coerce.number().int().min(0).default(604_800),
});
export type SharedEnv = z.infer<typeof sharedEnvSchema>;
