import { z } from 'zod';
import { TensorDatatypeSchema } from '../tensors/v2.js';

/** Model names become queue names and Redis key parts, so they never contain `:` or spaces. */
export const ModelNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'must be 1 to 63 lowercase letters, digits, ".", "_" or "-"');

/** A tensor the model takes or gives; -1 in `shape` marks the batch dimension. */
export const TensorSpecSchema = z.object({
  name: z.string().min(1),
  datatype: TensorDatatypeSchema,
  shape: z.array(z.number().int().min(-1)).min(1),
});
export type TensorSpec = z.infer<typeof TensorSpecSchema>;

/** Media types a submission may have. */
export const InputMediaTypeSchema = z.enum([
  'application/json',
  'image/png',
  'image/jpeg',
  'application/dicom',
  'application/x-nifti',
]);
export type InputMediaType = z.infer<typeof InputMediaTypeSchema>;

/** Intensity normalisation applied to an image or volume before inference. */
export const NormalizeSchema = z.discriminatedUnion('kind', [
  /** Per image: `(x - mean) / (std + epsilon)` over all pixels or voxels. */
  z.object({ kind: z.literal('zscore'), epsilon: z.number().nonnegative().default(1e-6) }),
  /** Per image: `(x - min) / (max - min)`, so values span [0, 1]. */
  z.object({ kind: z.literal('minmax') }),
  /** Fixed: `(x * scale - mean) / std`. */
  z.object({
    kind: z.literal('affine'),
    scale: z.number().default(1),
    mean: z.number().default(0),
    std: z.number().positive().default(1),
  }),
]);
export type Normalize = z.infer<typeof NormalizeSchema>;

/** Fitting of a 2D image of any size to a model whose spatial input shape is fixed. */
export const FitSchema = z.discriminatedUnion('kind', [
  /**
   * Overlapping tiles of the model's input size; each tile keeps its centre and drops a
   * `halo`-pixel margin, so the mask matches one run on the whole image. Edges are mirrored.
   */
  z.object({ kind: z.literal('tile'), halo: z.number().int().nonnegative() }),
  /** Resize to the model's input size, then resize the output back. */
  z.object({ kind: z.literal('resize') }),
]);
export type Fit = z.infer<typeof FitSchema>;

export const PreprocessingSchema = z.object({
  /** Convert colour images to one grey channel. */
  grayscale: z.boolean().default(true),
  normalize: NormalizeSchema,
  /** Only for 2D models. */
  fit: FitSchema.optional(),
  layout: z.enum(['NCHW', 'NCDHW']),
});
export type Preprocessing = z.infer<typeof PreprocessingSchema>;

export const PostprocessingSchema = z.discriminatedUnion('kind', [
  /** One logit channel: sigmoid, then `probability >= threshold` is the foreground label (1). */
  z.object({ kind: z.literal('sigmoid-threshold'), threshold: z.number().min(0).max(1).default(0.5) }),
  /** One score channel per label: the label of each pixel or voxel is the channel with the highest score. */
  z.object({ kind: z.literal('argmax') }),
  /** Class scores: softmax, then the `top` most probable labels. */
  z.object({ kind: z.literal('softmax-top'), top: z.number().int().positive().default(5) }),
]);
export type Postprocessing = z.infer<typeof PostprocessingSchema>;

/** Source of a model file that is not in the repository folder. */
export const ModelSourceSchema = z.object({
  url: z.url(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int().positive(),
  license: z.string().optional(),
});

/** `model.json`: what the worker needs to run a model and what the gateway validates submissions against. */
export const ModelManifestSchema = z.object({
  name: ModelNameSchema,
  version: z.string().min(1).max(64),
  task: z.enum(['segmentation', 'classification']),
  description: z.string().optional(),
  source: ModelSourceSchema.optional(),
  inputs: z.array(TensorSpecSchema).length(1),
  outputs: z.array(TensorSpecSchema).length(1),
  labels: z.array(z.string()).min(1),
  accepts: z.object({
    mediaTypes: z.array(InputMediaTypeSchema).min(1),
    /** DICOM modalities (0008,0060) accepted; empty or absent means any. */
    modalities: z.array(z.string()).optional(),
  }),
  preprocessing: PreprocessingSchema,
  postprocessing: PostprocessingSchema,
  /** Largest number of queued jobs run together in one inference; 1 turns batching off. */
  maxBatchSize: z.number().int().positive().default(1),
});
export type ModelManifest = z.infer<typeof ModelManifestSchema>;

/** A manifest as a worker publishes it: with the SHA-256 of the ONNX file it loaded. */
export const PublishedModelSchema = ModelManifestSchema.extend({
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type PublishedModel = z.infer<typeof PublishedModelSchema>;
