import type { JobRecord } from '@medai-flow/common';
import {
  isTerminal,
  PROBLEM_TYPE_BASE,
  type PublishedModel,
  type V2InferenceRequest,
  type V2InferenceResponse,
} from '@medai-flow/contracts';
import type { Context, Hono, MiddlewareHandler } from 'hono';
import { GatewayError, type GatewayErrorCode } from '../errors/gateway-error.js';
import { readLimitedBody } from '../http/body.js';
import type { GatewayEnv } from '../http/context.js';
import { cappedWait, parsePrefer } from '../http/prefer.js';
import { buildProblem, toResponse } from '../http/problem.js';
import { parseIdempotencyKey } from '../jobs/idempotency.js';
import { prepareTensorInput } from '../jobs/input.js';
import { submissionMediaType } from '../jobs/media.js';
import { parseInferenceRequest } from '../jobs/tensors.js';
import type { GatewayServices } from '../services.js';
import type { JobRouteGuards } from './jobs.js';
import { submitOptions } from './jobs.js';

/** Platform name of every model in v2 model metadata: ONNX models run by ONNX Runtime. */
const PLATFORM = 'onnxruntime_onnx';

/** Gateway error code for each problem type a job can end with. */
const JOB_FAILURE_CODES: Record<string, GatewayErrorCode> = {
  'invalid-input': 'invalid_input',
  'inference-failed': 'inference_failed',
  'deadline-exceeded': 'deadline_exceeded',
  'worker-lost': 'worker_lost',
  'job-cancelled': 'job_cancelled',
};

/**
 * Adds the v2 protocol's `error` member (the message) to every problem response under /v2, so
 * that v2 clients find their error field and other clients the usual problem details.
 */
function v2ErrorMember(): MiddlewareHandler<GatewayEnv> {
  return async function v2ErrorMember(c, next) {
    await next();
    const error = c.error;
    if (!(error instanceof GatewayError)) return;
    const withMember = new GatewayError(error.code, error.detail, {
      extensions: { ...error.extensions, error: error.detail },
      retryAfterSeconds: error.retryAfterSeconds,
      requiredScope: error.requiredScope,
      reason: error.reason,
      cause: error.cause,
    });
    c.res = toResponse(buildProblem(withMember, c.get('requestId')));
  };
}

/** v2 model metadata: name, versions, platform and the input and output tensors (-1: any size). */
function modelMetadata(manifest: PublishedModel) {
  const tensor = ({ name, datatype, shape }: PublishedModel['inputs'][number]) => ({ name, datatype, shape });
  return {
    name: manifest.name,
    versions: [manifest.version],
    platform: PLATFORM,
    inputs: manifest.inputs.map(tensor),
    outputs: manifest.outputs.map(tensor),
  };
}

/** Rejects a version in the path other than the one published; v2 servers may serve one version only. */
function requireVersion(manifest: PublishedModel, version: string | undefined): void {
  if (version !== undefined && version !== manifest.version) {
    throw new GatewayError(
      'model_not_found',
      `model "${manifest.name}" has version ${manifest.version}, not "${version.slice(0, 64)}"`,
    );
  }
}

/** The requested output names, checked against the model; undefined returns every output. */
function requestedOutputs(request: V2InferenceRequest, manifest: PublishedModel): Set<string> | undefined {
  if (request.outputs === undefined) return undefined;
  const known = manifest.outputs.map((output) => output.name);
  for (const [index, output] of request.outputs.entries()) {
    if (!known.includes(output.name)) {
      throw new GatewayError(
        'invalid_input',
        `output "${output.name.slice(0, 256)}" is not an output of this model; it has ${known.join(', ')}`,
        {
          extensions: {
            field: `outputs.${index}.name`,
            expected: known,
            received: output.name.slice(0, 256),
          },
        },
      );
    }
  }
  return new Set(request.outputs.map((output) => output.name));
}

/** Builds the v2 error for a job that ended without a result, with the status of its problem type. */
function jobFailure(record: JobRecord): GatewayError {
  const problem = record.error?.type.startsWith(PROBLEM_TYPE_BASE)
    ? record.error.type.slice(PROBLEM_TYPE_BASE.length)
    : '';
  const code = JOB_FAILURE_CODES[problem] ?? 'inference_failed';
  return new GatewayError(code, record.error?.detail ?? `the job ended with status ${record.status}`, {
    extensions: { jobId: record.id, status: record.status },
  });
}

function inferenceResponse(
  record: JobRecord,
  request: V2InferenceRequest,
  outputs: Set<string> | undefined,
): V2InferenceResponse {
  const result = record.result;
  if (!result?.outputs) throw new Error(`succeeded job ${record.id} has no raw outputs`);
  const response: V2InferenceResponse = {
    model_name: result.model.name,
    model_version: result.model.version,
    outputs: result.outputs.filter((output) => outputs === undefined || outputs.has(output.name)),
  };
  if (request.id !== undefined) response.id = request.id;
  return response;
}

/**
 * Registers the open inference protocol (v2) routes. Health responses have an empty body, as the
 * protocol recommends; `POST .../infer` queues a job with raw outputs and waits for it up to
 * V2_INFER_WAIT_SECONDS (or a shorter `Prefer: wait`). A job still running then, or any job
 * submitted with `Prefer: respond-async`, is answered 202 with the job, as
 * `POST /v1/models/{model}/jobs` answers.
 */
export function registerV2Routes(
  app: Hono<GatewayEnv>,
  services: GatewayServices,
  guards: JobRouteGuards,
): void {
  const { config, lifecycle } = services;
  app.use('/v2/*', v2ErrorMember());

  app.get('/v2/health/live', (c) => c.body(null, 200));

  // Same check as /readyz, because the gateway can take jobs while Redis responds. A Redis
  // outage is a 503 here too, the gateway's status for an unavailable dependency.
  app.get('/v2/health/ready', async (c) => {
    await services.redisCalls.run('ping', () => services.redis.ping());
    return c.body(null, 200);
  });

  const metadata = async (c: Context<GatewayEnv>) => {
    const { manifest } = await services.catalog.require(c.req.param('model') ?? '');
    requireVersion(manifest, c.req.param('version'));
    return c.json(modelMetadata(manifest));
  };
  app.get('/v2/models/:model', guards.canRead, metadata);
  app.get('/v2/models/:model/versions/:version', guards.canRead, metadata);

  // The v2 protocol reports "not ready" with a 4xx status: 400 while no live worker serves the model.
  const ready = async (c: Context<GatewayEnv>) => {
    const { manifest, liveWorkers } = await services.catalog.require(c.req.param('model') ?? '');
    requireVersion(manifest, c.req.param('version'));
    if (liveWorkers === 0) {
      throw new GatewayError('model_not_ready', `no live worker serves model "${manifest.name}"`);
    }
    return c.body(null, 200);
  };
  app.get('/v2/models/:model/ready', guards.canRead, ready);
  app.get('/v2/models/:model/versions/:version/ready', guards.canRead, ready);

  const infer = async (c: Context<GatewayEnv>) => {
    const { manifest } = await services.catalog.require(c.req.param('model') ?? '');
    requireVersion(manifest, c.req.param('version'));
    const mediaType = submissionMediaType(c.req.header('content-type'), ['application/json']);
    const options = { ...submitOptions(c), rawOutputs: true };
    const idempotencyKey = parseIdempotencyKey(c.req.header('idempotency-key'));
    const preferences = parsePrefer(c.req.header('prefer'));
    const body = await readLimitedBody(c.req.raw, config.MAX_JSON_BODY_BYTES);
    const request = parseInferenceRequest(body);
    const outputs = requestedOutputs(request, manifest);
    const prepared = prepareTensorInput(request, manifest);
    const principal = c.get('principal');
    const submitted = await services.submissions.submit({
      principal,
      manifest,
      mediaType,
      body,
      prepared,
      options,
      idempotencyKey,
    });

    const headers: Record<string, string> = { location: `/v1/jobs/${submitted.record.id}` };
    if (submitted.replayed) headers['idempotent-replayed'] = 'true';
    let record = submitted.record;
    if (preferences.respondAsync) {
      headers['preference-applied'] = 'respond-async';
    } else {
      const waitSeconds = Math.min(
        cappedWait(preferences) ?? config.V2_INFER_WAIT_SECONDS,
        config.V2_INFER_WAIT_SECONDS,
      );
      record = await services.waiter.waitForEnd(record.id, waitSeconds * 1000, () =>
        lifecycle.read(principal, submitted.record.id),
      );
      if (record.status === 'succeeded')
        return c.json(inferenceResponse(record, request, outputs), 200, headers);
      if (isTerminal(record.status)) throw jobFailure(record);
    }
    headers['retry-after'] = String(config.JOB_RETRY_AFTER_SECONDS);
    return c.json(await lifecycle.represent(record), 202, headers);
  };
  app.post('/v2/models/:model/infer', guards.canWrite, infer);
  app.post('/v2/models/:model/versions/:version/infer', guards.canWrite, infer);
}
