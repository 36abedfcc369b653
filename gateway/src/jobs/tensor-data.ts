import { elementCount } from '@medai-flow/contracts';
import { GatewayError } from '../errors/gateway-error.js';

/** The elements of a v2 tensor in row-major order, each still to be checked against the datatype. */
export interface FlatTensorData {
  values: unknown[];
  /** Names element `index` as the client wrote it: `data[5]` when flat, `data[0][1]` when nested. */
  elementField(index: number): string;
}

function mismatch(detail: string, field: string, expected: unknown, received: unknown): GatewayError {
  return new GatewayError('invalid_input', detail, { extensions: { field, expected, received } });
}

/** Converts a row-major flat index into one index per dimension of `shape`. */
function nestedIndexes(index: number, shape: readonly number[]): number[] {
  const indexes = new Array<number>(shape.length);
  let rest = index;
  for (let dimension = shape.length - 1; dimension >= 0; dimension--) {
    const size = shape[dimension] as number;
    indexes[dimension] = rest % size;
    rest = Math.floor(rest / size);
  }
  return indexes;
}

/**
 * Appends the elements of `data`, nested one array per dimension of `shape` from `depth` on,
 * to `values` in row-major order. Throws a 422 naming the first array whose length does not
 * match its dimension, or the first element nested deeper than the shape allows.
 */
function flattenNested(
  data: unknown,
  shape: readonly number[],
  depth: number,
  path: string,
  values: unknown[],
): void {
  if (depth === shape.length) {
    if (Array.isArray(data)) {
      throw mismatch(
        `${path} is an array, but shape [${shape.join(', ')}] has ${shape.length} dimensions, so it must be a single value`,
        path,
        'a single value',
        'an array',
      );
    }
    values.push(data);
    return;
  }
  const size = shape[depth] as number;
  if (!Array.isArray(data) || data.length !== size) {
    const received = Array.isArray(data) ? `${data.length} elements` : 'a single value';
    throw mismatch(
      `${path} must be an array of ${size} elements for dimension ${depth} of shape [${shape.join(', ')}]; it has ${received}`,
      path,
      size,
      Array.isArray(data) ? data.length : received,
    );
  }
  data.forEach((item, index) => {
    flattenNested(item, shape, depth + 1, `${path}[${index}]`, values);
  });
}

/**
 * Reads the elements of a v2 tensor's `data`, flat in row-major order or nested as `shape`
 * (KServe v2 examples send both). Throws a 422 naming the field and the expected size when
 * neither form matches the shape.
 */
export function flattenTensorData(
  data: readonly unknown[],
  shape: readonly number[],
  field: string,
): FlatTensorData {
  const dataField = `${field}.data`;
  const nested = data.some((item) => Array.isArray(item));
  if (!nested) {
    const count = elementCount(shape);
    if (data.length !== count) {
      throw mismatch(
        `${dataField} has ${data.length} values; shape [${shape.join(', ')}] needs ${count} (flat in row-major order, or nested one array per dimension)`,
        dataField,
        count,
        data.length,
      );
    }
    return { values: [...data], elementField: (index) => `${dataField}[${index}]` };
  }
  const values: unknown[] = [];
  flattenNested(data, shape, 0, dataField, values);
  return {
    values,
    elementField: (index) =>
      `${dataField}${nestedIndexes(index, shape)
        .map((position) => `[${position}]`)
        .join('')}`,
  };
}
