import { z } from 'zod';
import { InputMediaTypeSchema } from '../models/manifest.js';
import { TensorDatatypeSchema, type V2OutputTensor } from '../tensors/v2.js';

export const JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'expired'] as const;
export const JobStatusSchema = z.enum(JOB_STATUSES);
export type JobStatus = z.infer<typeof JobStatusSchema>;

export const TERMINAL_STATUSES: readonly JobStatus[] = ['succeeded', 'failed', 'cancelled', 'expired'];

export function isTerminal(status: JobStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

export const PrioritySchema = z.enum(['stat', 'urgent', 'routine', 'batch']);
export type Priority = z.infer<typeof PrioritySchema>;

/**
 * BullMQ priorities of each class. BullMQ runs lower numbers first and treats 0 as
 * "no priority", which it runs before every prioritised job, so 0 is never used.
 */
export const BULLMQ_PRIORITY: Record<Priority, number> = {
  stat: 1,
  urgent: 10,
  routine: 100,
  batch: 1000,
};

/** A tensor stored as raw little-endian bytes inside the job's input blob. */
export const StoredTensorSchema = z.object({
  name: z.string(),
  datatype: TensorDatatypeSchema,
  shape: z.array(z.number().int().nonnegative()),
  byteOffset: z.number().int().nonnegative(),
  byteLength: z.number().int().nonnegative(),
});
export type StoredTensor = z.infer<typeof StoredTensorSchema>;

/**
 * The input of a job. The bytes live in their own Redis key (binary-safe, deleted when the
 * job ends); the queue carries only this description.
 */
export const JobInputSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('media'),
    mediaType: InputMediaTypeSchema.exclude(['application/json']),
    byteLength: z.number().int().nonnegative(),
    sha256: z.string(),
  }),
  z.object({
    kind: z.literal('tensors'),
    tensors: z.array(StoredTensorSchema).min(1),
    byteLength: z.number().int().nonnegative(),
    sha256: z.string(),
  }),
]);
export type JobInput = z.infer<typeof JobInputSchema>;

/** Data of a BullMQ job: everything a worker needs, except the input bytes. */
export const QueueJobDataSchema = z.object({
  jobId: z.uuid(),
  model: z.string(),
  owner: z.string(),
  requestId: z.string(),
  traceparent: z.string().optional(),
  createdAt: z.number().int(),
  /** Epoch milliseconds after which the job ends `expired` (not started) or `cancelled` (running). */
  deadlineAt: z.number().int().optional(),
  rawOutputs: z.boolean().default(false),
  input: JobInputSchema,
});
export type QueueJobData = z.infer<typeof QueueJobDataSchema>;

export interface LabelStats {
  label: string;
  count: number;
  fraction: number;
  /** Present where the input states its voxel spacing. */
  volumeMl?: number;
}

export interface SegmentationResult {
  labels: string[];
  /** A label image at the submitted size: `image/png` for 2D, gzipped NIfTI for 3D; base64. */
  mask: { mediaType: 'image/png' | 'application/x-nifti+gzip'; data: string };
  stats: LabelStats[];
}

export interface ClassificationResult {
  top: { label: string; probability: number }[];
}

/** The `result` of a succeeded job. */
export interface JobResult {
  model: { name: string; version: string; sha256: string };
  timings: { queueMs: number; preprocessMs: number; inferenceMs: number };
  segmentation?: SegmentationResult;
  classification?: ClassificationResult;
  outputs?: V2OutputTensor[];
}

/** Why a job did not succeed, in the problem-details vocabulary. */
export interface JobError {
  type: string;
  title: string;
  detail: string;
}

/** A job as `GET /v1/jobs/{id}` returns it. */
export interface JobRepresentation {
  id: string;
  model: string;
  status: JobStatus;
  priority: Priority;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  deadline?: string;
  /** Approximate number of jobs ahead of this one; only while queued. */
  queuePosition?: number;
  result?: JobResult;
  error?: JobError;
}
