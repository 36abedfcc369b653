import { toRepresentation } from '@medai-flow/common';
import { PrioritySchema } from '@medai-flow/contracts';
import type { Context, Hono, MiddlewareHandler } from 'hono';
import { GatewayError } from '../errors/gateway-error.js';
import { readLimitedBody } from '../http/body.js';
import type { GatewayEnv } from '../http/context.js';
import { prepareInput } from '../jobs/input.js';
import type { SubmitOptions } from '../jobs/job-service.js';
import { submissionMediaType } from '../jobs/media.js';
import type { GatewayServices } from '../services.js';

/** Longest deadline a submission may ask for, in seconds. */
const MAX_DEADLINE_SECONDS = 86_400;
/** W3C Trace Context `traceparent` (version 00 layout); anything else is ignored, as the spec says. */
const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

function submitOptions(c: Context<GatewayEnv>): SubmitOptions {
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
  const { config, logger } = services;

  app.post('/v1/models/:model/jobs', guards.canWrite, async (c) => {
    const { manifest } = await services.catalog.require(c.req.param('model'));
    const mediaType = submissionMediaType(c.req.header('content-type'), manifest.accepts.mediaTypes);
    const options = submitOptions(c);
    const body = await readLimitedBody(c.req.raw, config.MAX_BODY_BYTES);
    const prepared = prepareInput(mediaType, body, manifest);
    const record = await services.jobs.submit(c.get('principal'), manifest, prepared, options);
    services.metrics.jobsSubmitted.inc({ model: manifest.name });
    logger.info({ requestId: record.requestId, jobId: record.id, model: record.model }, 'job submitted');
    return c.json(toRepresentation(record), 202, {
      location: `/v1/jobs/${record.id}`,
      'retry-after': String(config.JOB_RETRY_AFTER_SECONDS),
    });
  });

  app.get('/v1/jobs/:id', guards.canRead, async (c) => {
    const record = await services.jobs.get(c.get('principal'), c.req.param('id'));
    return c.json(toRepresentation(record));
  });
}
