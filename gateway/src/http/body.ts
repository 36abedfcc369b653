import { GatewayError } from '../errors/gateway-error.js';

function tooLarge(maxBytes: number): GatewayError {
  return new GatewayError('payload_too_large', `the request body exceeds the limit of ${maxBytes} bytes`, {
    extensions: { limit: maxBytes },
  });
}

/**
 * Reads a request body of at most `maxBytes`. A `Content-Length` over the limit is rejected
 * before any byte is read; a chunked body is rejected as soon as the bytes read pass the limit,
 * and the rest is never read.
 */
export async function readLimitedBody(request: Request, maxBytes: number): Promise<Uint8Array> {
  const declared = request.headers.get('content-length');
  if (declared !== null) {
    const length = Number(declared);
    if (!Number.isSafeInteger(length) || length < 0) {
      throw new GatewayError('bad_request', 'the Content-Length header is not a valid length');
    }
    if (length > maxBytes) throw tooLarge(maxBytes);
  }
  if (!request.body) return new Uint8Array(0);

  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  return concatChunks(chunks, total);
}

function concatChunks(chunks: Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1 && chunks[0]) return chunks[0];
  const body = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}
