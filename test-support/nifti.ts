/** Element size in bytes of the NIfTI-1 datatypes these helpers write. */
const DATATYPE_BYTES = { 2: 1, 16: 4 } as const;

export interface NiftiFileOptions {
  /** Spatial size x, y, z in voxels. */
  dims: [number, number, number];
  /** 2 (uint8) or 16 (float32); default 16. */
  datatype?: keyof typeof DATATYPE_BYTES;
  /** Voxel values in NIfTI order (x fastest); default all zero. */
  values?: ArrayLike<number>;
  sclSlope?: number;
  sclInter?: number;
}

/** Builds an uncompressed single-file NIfTI-1 volume (`n+1`, vox_offset 352, 1 mm voxels). */
export function niftiFile(options: NiftiFileOptions): Buffer {
  const datatype = options.datatype ?? 16;
  const elementBytes = DATATYPE_BYTES[datatype];
  const [x, y, z] = options.dims;
  const voxels = x * y * z;
  const file = Buffer.alloc(352 + voxels * elementBytes);
  file.writeInt32LE(348, 0);
  for (const [index, size] of [3, x, y, z, 1, 1, 1, 1].entries()) file.writeInt16LE(size, 40 + index * 2);
  file.writeInt16LE(datatype, 70);
  file.writeInt16LE(elementBytes * 8, 72);
  for (const [index, size] of [1, 1, 1, 1].entries()) file.writeFloatLE(size, 76 + index * 4);
  file.writeFloatLE(352, 108);
  file.writeFloatLE(options.sclSlope ?? 1, 112);
  file.writeFloatLE(options.sclInter ?? 0, 116);
  file.write('n+1\0', 344, 'latin1');
  const values = options.values ?? [];
  for (let i = 0; i < values.length; i += 1) {
    const value = values[i] as number;
    if (datatype === 2) file.writeUInt8(value, 352 + i);
    else file.writeFloatLE(value, 352 + i * 4);
  }
  return file;
}
