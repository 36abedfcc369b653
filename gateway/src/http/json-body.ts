import type { z } from 'zod';
import { GatewayError } from '../errors/gateway-error.js';
import { assertJsonDepth } from './json-depth.js';

/**
 * Parses a UTF-8 JSON body against `schema`: 400 `invalid_json` when it is not JSON (or nests
 * too deep), 422 `invalid_input` naming the first invalid field.
 */
export function parseJsonBody<T extends z.ZodType>(body: Uint8Array, schema: T): z.infer<T> {
  assertJsonDepth(body);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch (error) {
    throw new GatewayError('invalid_json', 'the body is not valid JSON', { cause: error });
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join('.') || '(body)';
    throw new GatewayError(
      'invalid_input',
      `the field ${field} is invalid: ${issue?.message ?? 'unknown issue'}`,
      {
        extensions: { field },
      },
    );
  }
  return parsed.data;
}
