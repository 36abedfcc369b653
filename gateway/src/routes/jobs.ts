import type { JobRecord } from '@medai-flow/common';
import { isTerminal, PrioritySchema } from '@medai-flow/contracts';
import type { Context, Hono, MiddlewareHandler } from 'hono';
import { GatewayError } from '../errors/gateway-error.js';
import { readLimitedBody } from '../http/body.js';
import type { GatewayEnv } from '../http/context.js';
import { cappedWait, parsePrefer } from '../http/prefer.js';
import { parseIdempotencyKey } from '../jobs/idempotency.js';
import { prepareInput } from '../jobs/input.js';
import type { SubmitOptions } from '../jobs/job-service.js';
import { submissionMediaType } from '../jobs/media.js';
import type { GatewayServices } from '../services.js';

/** Maximum deadline a submission may request, in seconds. */
const MAX_DEADLINE_SECONDS = 86_400;
/** W3C Trace Context `traceparent` (version 00 layout); anything else is ignored, as the W3C Trace Context specification requires. */
const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** Reads the priority, deadline, raw-output and trace options of a submission from its query and headers. */
export function submitOptions(c: Context<GatewayEnv>): SubmitOptions {
  const priorityText = c.req.query('priority') ?? 'routine';
  const priority = PrioritySchema.safeParse(priorityText);
  if (!priority.success) {
    throw new GatewayError(
      'bad_request',
      'the query parameter priority must be stat, urgent, routine or batch',
      {
        extensions: { field: 'priority' },
      },
    );
  }
  const deadlineText = c.req.query('deadline');
  const deadlineSeconds = deadlineText === undefined ? undefined : Number(deadlineText);
  if (
    deadlineSeconds !== undefined &&
    (!Number.isInteger(deadlineSeconds) || deadlineSeconds < 1 || deadlineSeconds > MAX_DEADLINE_SECONDS)
  ) {
    throw new GatewayError(
      'bad_request',
      `the query parameter deadline must be whole seconds from 1 to ${MAX_DEADLINE_SECONDS}`,
      {
        extensions: { field: 'deadline' },
      },
    );
  }
  const traceparent = c.req.header('traceparent');
  return {
    requestId: c.get('requestId'),
    priority: priority.data,
    deadlineSeconds,
    rawOutputs: c.req.query('outputs') === 'raw',
    traceparent: traceparent !== undefined && TRACEPARENT.test(traceparent) ? traceparent : undefined,
  };
}

export interface JobRouteGuards {
  canRead: MiddlewareHandler<GatewayEnv>;
  canWrite: MiddlewareHandler<GatewayEnv>;
}

export function registerJobRoutes(
  app: Hono<GatewayEnv>,
  services: GatewayServices,
  guards: JobRouteGuards,
): void {
  const { config, lifecycle } = services;

  /** Holds the request per `Prefer: wait`; returns the record then and the `Preference-Applied` value. */
  async function waitIfPreferred(c: Context<GatewayEnv>, record: JobRecord) {
    const waitSeconds = cappedWait(parsePrefer(c.req.header('prefer')));
    if (waitSeconds === undefined) return { record, applied: undefined };
    const principal = c.get('principal');
    const ended = await services.waiter.waitForEnd(record.id, waitSeconds * 1000, () =>
      lifecycle.read(principal, record.id),
    );
    return { record: ended, applied: `wait=${waitSeconds}` };
  }

  app.post('/v1/models/:model/jobs', guards.canWrite, async (c) => {
    const { manifest } = await services.catalog.require(c.req.param('model'));
    const mediaType = submissionMediaType(c.req.header('content-type'), manifest.accepts.mediaTypes);
    const options = submitOptions(c);
    const idempotencyKey = parseIdempotencyKey(c.req.header('idempotency-key'));
    const maxBytes = mediaType === 'application/json' ? config.MAX_JSON_BODY_BYTES : config.MAX_BODY_BYTES;
    const body = await readLimitedBody(c.req.raw, maxBytes);
    const prepared = prepareInput(mediaType, body, manifest);
    const submitted = await services.submissions.submit({
      principal: c.get('principal'),
      manifest,
      mediaType,
      body,
      prepared,
      options,
      idempotencyKey,
    });
    const { record, applied } = await waitIfPreferred(c, submitted.record);
    const headers: Record<string, string> = { location: `/v1/jobs/${record.id}` };
    if (submitted.replayed) headers['idempotent-replayed'] = 'true';
    if (applied) headers['preference-applied'] = applied;
    const representation = await lifecycle.represent(record);
    if (submitted.replayed || isTerminal(record.status)) return c.json(representation, 200, headers);
    headers['retry-after'] = String(config.JOB_RETRY_AFTER_SECONDS);
    return c.json(representation, 202, headers);
  });

  app.get('/v1/jobs/:id', guards.canRead, async (c) => {
    const read = await lifecycle.read(c.get('principal'), c.req.param('id'));
    const { record, applied } = await waitIfPreferred(c, read);
    const headers: Record<string, string> = { vary: 'Prefer' };
    if (applied) headers['preference-applied'] = applied;
    return c.json(await lifecycle.represent(record), 200, headers);
  });

  app.delete('/v1/jobs/:id', guards.canWrite, async (c) => {
    const cancelled = await lifecycle.cancel(c.get('principal'), c.req.param('id'));
    const headers: Record<string, string> = { location: `/v1/jobs/${cancelled.record.id}` };
    if (!cancelled.pending) return c.json(await lifecycle.represent(cancelled.record), 200, headers);
    const { record, applied } = await waitIfPreferred(c, cancelled.record);
    if (applied) headers['preference-applied'] = applied;
    const status = isTerminal(record.status) ? 200 : 202;
    return c.json(await lifecycle.represent(record), status, headers);
  });
}
