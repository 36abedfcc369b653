import { Writable } from 'node:stream';
import { createLogger, serializeError } from '@medai-flow/common';
import { ReplyError } from 'ioredis';
import { describe, expect, it } from 'vitest';

/** An error shaped like the one ioredis rejects a failed command of a MULTI with. */
function redisErrorWithArgs(body: string): Error {
  const error = new ReplyError('EXECABORT Transaction discarded because of previous errors.') as Error &
    Record<string, unknown>;
  error.command = { name: 'exec', args: [] };
  const previous = new ReplyError("OOM command not allowed when used memory > 'maxmemory'.") as Error &
    Record<string, unknown>;
  previous.command = { name: 'hset', args: ['job:1', 'input', body] };
  error.previousErrors = [previous];
  return error;
}

function captureLogger(): { logger: ReturnType<typeof createLogger>; lines: string[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: createLogger('test', 'info', {}, destination), lines };
}

describe('serializeError', () => {
  it('keeps type, message, code and stack only', () => {
    const error = Object.assign(new Error('boom'), { code: 'E_BOOM', args: ['secret'], extra: 1 });

    const logged = serializeError(error);

    expect(Object.keys(logged).sort()).toEqual(['code', 'message', 'stack', 'type']);
    expect(logged.type).toBe('Error');
    expect(logged.message).toBe('boom');
    expect(logged.code).toBe('E_BOOM');
  });

  it('truncates a long message and stack', () => {
    const logged = serializeError(new Error('x'.repeat(100_000)));

    expect(logged.message.length).toBeLessThan(1_100);
    expect(logged.stack?.length ?? 0).toBeLessThan(4_200);
  });

  it('describes a non-Error value by type', () => {
    expect(serializeError({ exception: 'bad', payload: 'y'.repeat(10) })).toEqual({
      type: 'Object',
      message: '',
    });
    expect(serializeError('plain')).toEqual({ type: 'string', message: 'plain' });
  });
});

describe('createLogger error fields', () => {
  it('drops command args and previousErrors of a Redis error', () => {
    const body = 'PATIENTBYTES'.repeat(25_000);
    const { logger, lines } = captureLogger();

    logger.error({ err: redisErrorWithArgs(body) }, 'request failed');
    logger.error({ error: redisErrorWithArgs(body), cause: redisErrorWithArgs(body) }, 'job failed');

    expect(lines).toHaveLength(2);
    for (const line of lines) {
      expect(line).not.toContain('PATIENTBYTES');
      expect(line).not.toContain('previousErrors');
      expect(line.length).toBeLessThan(12_000);
    }
    expect(JSON.parse(lines[0] ?? '{}').err.message).toMatch(/^EXECABORT/);
  });

  it('keeps a string error field as a string', () => {
    const { logger, lines } = captureLogger();

    logger.error({ error: 'model file missing' }, 'model load failed');

    expect(JSON.parse(lines[0] ?? '{}').error).toBe('model file missing');
  });
});
