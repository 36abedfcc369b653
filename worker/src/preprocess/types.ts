import type { WireTensor } from '../inference/index.js';

/** A one-channel 2D image as float32 values in row-major order (x fastest). */
export interface GreyImage {
  width: number;
  height: number;
  data: Float32Array;
  /** Volume of one pixel in mm³ when the input states its pixel spacing and slice thickness. */
  voxelVolumeMm3?: number;
}

/** The NIfTI-1 header of an input volume, kept so that the label volume has the same geometry. */
export interface NiftiGeometry {
  /** The first 348 bytes of the input file. */
  header: Uint8Array;
  littleEndian: boolean;
}

/** A one-channel 3D volume as float32 values, x fastest (the NIfTI voxel order). */
export interface Volume {
  /** Voxels along x, y and z. */
  dims: [number, number, number];
  data: Float32Array;
  voxelVolumeMm3?: number;
  geometry?: NiftiGeometry;
}

/** A decoded job input, ready for the model. */
export type PreparedInput =
  | { kind: 'image'; image: GreyImage }
  | { kind: 'volume'; volume: Volume }
  | { kind: 'tensors'; feeds: Record<string, WireTensor> };
