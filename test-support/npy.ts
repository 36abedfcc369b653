import { readFileSync } from 'node:fs';

/** A float32 array read from a NumPy `.npy` file, with its shape. */
export interface NpyArray {
  shape: number[];
  data: Float32Array;
}

/** Reads a little-endian float32 `.npy` file (format version 1 or 2). */
export function readNpyFloat32(path: string): NpyArray {
  const bytes = readFileSync(path);
  if (bytes.toString('latin1', 1, 6) !== 'NUMPY') throw new Error(`${path} is not a .npy file`);
  const major = bytes[6];
  const headerLength = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const headerStart = major === 1 ? 10 : 12;
  const header = bytes.toString('latin1', headerStart, headerStart + headerLength);
  if (!header.includes("'descr': '<f4'")) throw new Error(`${path} is not little-endian float32: ${header}`);
  if (header.includes("'fortran_order': True")) throw new Error(`${path} is in Fortran order`);
  const shapeText = /'shape': \(([^)]*)\)/.exec(header)?.[1] ?? '';
  const shape = shapeText
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0)
    .map(Number);
  const dataStart = headerStart + headerLength;
  const data = new Float32Array(
    bytes.buffer.slice(bytes.byteOffset + dataStart, bytes.byteOffset + bytes.byteLength),
  );
  return { shape, data };
}
