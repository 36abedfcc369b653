import { readFileSync } from 'node:fs';

/** A float32 NumPy array read from a `.npy` file (format 1.0 to 3.0, little endian, C order). */
export interface NpyArray {
  shape: number[];
  data: Float32Array;
}

/** Reads a little-endian float32 `.npy` file; rejects other dtypes and Fortran order. */
export function readNpy(path: string): NpyArray {
  const file = readFileSync(path);
  if (file.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error(`${path} is not a .npy file`);
  const major = file[6] ?? 0;
  const headerLength = major === 1 ? file.readUInt16LE(8) : file.readUInt32LE(8);
  const headerStart = major === 1 ? 10 : 12;
  const header = file.toString('latin1', headerStart, headerStart + headerLength);
  if (!/'descr':\s*'<f4'/.test(header) || /'fortran_order':\s*True/.test(header)) {
    throw new Error(`${path}: only little-endian float32 in C order is read, header ${header.trim()}`);
  }
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? '';
  const shape = shapeText
    .split(',')
    .map((dim) => dim.trim())
    .filter((dim) => dim.length > 0)
    .map(Number);
  const start = headerStart + headerLength;
  const data = new Float32Array(
    file.buffer.slice(file.byteOffset + start, file.byteOffset + file.byteLength),
  );
  return { shape, data };
}
