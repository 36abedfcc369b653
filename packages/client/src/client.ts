import {
  isTerminal,
  type JobRepresentation,
  type Priority,
  type ProblemDetails,
  type PublishedModel,
  type V2InputTensor,
} from '@medai-flow/contracts';
import { type Dispatcher, request } from 'undici';
import { ApiError, WaitTimeoutError } from './errors.js';

export interface ClientOptions {
  /** Gateway base URL, for example `http://127.0.0.1:8080`. */
  baseUrl: string;
  /** Bearer token sent on every request. */
  token: string;
  /** undici dispatcher (connection pool, proxy); default: undici's global one. */
  dispatcher?: Dispatcher;
}

/** A submission body: an encoded file (image, DICOM, NIfTI) or v2 tensors. */
export type SubmissionInput =
  | { mediaType: 'image/png' | 'image/jpeg' | 'application/dicom' | 'application/x-nifti'; bytes: Uint8Array }
  | { mediaType: 'application/json'; inputs: V2InputTensor[] };

export interface SubmitOptions {
  priority?: Priority;
  /** Seconds from now after which the job ends `expired` or `cancelled`. */
  deadlineSeconds?: number;
  idempotencyKey?: string;
  /** Ask the gateway to hold the request up to this many seconds (`Prefer: wait=N`). */
  waitSeconds?: number;
  /** Return the raw output tensors too (`?outputs=raw`). */
  rawOutputs?: boolean;
  requestId?: string;
}

export interface Submission {
  /** 202 when queued, 200 when the job had ended in time or was replayed for an Idempotency-Key. */
  status: number;
  job: JobRepresentation;
  /** Seconds the gateway suggests waiting before the first poll. */
  retryAfterSeconds?: number;
  requestId?: string;
}

export interface WaitOptions {
  /** Give up after this long, in milliseconds. Default 120000. */
  timeoutMs?: number;
  /** Poll interval when the gateway gives no Retry-After, in milliseconds. Default 250. */
  pollIntervalMs?: number;
}

/** A model as `GET /v1/models` lists it. */
export interface ModelSummary {
  name: string;
  version: string;
  /** SHA-256 of the ONNX file the workers loaded. */
  sha256: string;
  task: 'segmentation' | 'classification';
  /** Workers whose heartbeat is recent. */
  liveWorkers: number;
  [field: string]: unknown;
}

/** Typed client of the MedAI Flow gateway's jobs API. */
export class MedAIClient {
  private readonly baseUrl: string;

  constructor(private readonly options: ClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
  }

  /** Submits a job to `model`; resolves on 200 or 202, throws ApiError otherwise. */
  async submit(model: string, input: SubmissionInput, options: SubmitOptions = {}): Promise<Submission> {
    const query = new URLSearchParams();
    if (options.priority) query.set('priority', options.priority);
    if (options.deadlineSeconds !== undefined) query.set('deadline', String(options.deadlineSeconds));
    if (options.rawOutputs) query.set('outputs', 'raw');
    const headers: Record<string, string> = { 'content-type': input.mediaType };
    if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
    if (options.waitSeconds !== undefined) headers.prefer = `wait=${options.waitSeconds}`;
    if (options.requestId) headers['x-request-id'] = options.requestId;
    const body =
      input.mediaType === 'application/json' ? JSON.stringify({ inputs: input.inputs }) : input.bytes;
    const suffix = query.size > 0 ? `?${query}` : '';
    const response = await this.send(
      'POST',
      `/v1/models/${encodeURIComponent(model)}/jobs${suffix}`,
      headers,
      body,
    );
    const submission: Submission = { status: response.status, job: response.body as JobRepresentation };
    const retryAfter = Number(response.headers['retry-after']);
    if (Number.isFinite(retryAfter) && retryAfter >= 0) submission.retryAfterSeconds = retryAfter;
    const requestId = response.headers['x-request-id'];
    if (typeof requestId === 'string') submission.requestId = requestId;
    return submission;
  }

  async getJob(id: string, options: { waitSeconds?: number } = {}): Promise<JobRepresentation> {
    const headers: Record<string, string> = {};
    if (options.waitSeconds !== undefined) headers.prefer = `wait=${options.waitSeconds}`;
    const response = await this.send('GET', `/v1/jobs/${encodeURIComponent(id)}`, headers);
    return response.body as JobRepresentation;
  }

  /** Cancels a queued or running job; throws ApiError 409 once it has ended. */
  async cancel(id: string): Promise<JobRepresentation> {
    const response = await this.send('DELETE', `/v1/jobs/${encodeURIComponent(id)}`, {});
    return response.body as JobRepresentation;
  }

  /** Polls until the job ends (succeeded, failed, cancelled or expired) and returns it. */
  async waitForJob(id: string, options: WaitOptions = {}): Promise<JobRepresentation> {
    const timeoutMs = options.timeoutMs ?? 120_000;
    const pollIntervalMs = options.pollIntervalMs ?? 250;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const job = await this.getJob(id);
      if (isTerminal(job.status)) return job;
      if (Date.now() + pollIntervalMs > deadline) throw new WaitTimeoutError(id, timeoutMs);
      await new Promise((resolveWait) => setTimeout(resolveWait, pollIntervalMs));
    }
  }

  async listModels(): Promise<ModelSummary[]> {
    const response = await this.send('GET', '/v1/models', {});
    return (response.body as { models: ModelSummary[] }).models;
  }

  async getModel(name: string): Promise<PublishedModel> {
    const response = await this.send('GET', `/v1/models/${encodeURIComponent(name)}`, {});
    return response.body as PublishedModel;
  }

  /** Revokes the presented token (no argument), or with `admin` a token id or every token of a subject. */
  async revoke(target: { jti: string } | { sub: string } | Record<string, never> = {}): Promise<void> {
    await this.send(
      'POST',
      '/v1/auth/revoke',
      { 'content-type': 'application/json' },
      JSON.stringify(target),
    );
  }

  private async send(
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    headers: Record<string, string>,
    body?: string | Uint8Array,
  ): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: unknown }> {
    const response = await request(`${this.baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.options.token}`, accept: 'application/json', ...headers },
      ...(body !== undefined ? { body } : {}),
      ...(this.options.dispatcher ? { dispatcher: this.options.dispatcher } : {}),
    });
    const text = await response.body.text();
    const parsed: unknown =
      text.length > 0 && isJson(response.headers['content-type']) ? JSON.parse(text) : undefined;
    if (response.statusCode >= 400) {
      const requestId = response.headers['x-request-id'];
      throw new ApiError(
        response.statusCode,
        parsed as ProblemDetails | undefined,
        typeof requestId === 'string' ? requestId : undefined,
      );
    }
    return { status: response.statusCode, headers: response.headers, body: parsed };
  }
}

function isJson(contentType: string | string[] | undefined): boolean {
  const value = Array.isArray(contentType) ? contentType[0] : contentType;
  return value !== undefined && /^application\/(?:problem\+)?json/.test(value);
}
