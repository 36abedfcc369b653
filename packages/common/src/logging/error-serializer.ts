/** Longest `message` kept in a logged error, in characters. */
export const MAX_LOGGED_MESSAGE_CHARS = 1024;

/** Longest `stack` kept in a logged error, in characters. */
export const MAX_LOGGED_STACK_CHARS = 4096;

/** The fields of an error that reach a log line. */
export interface LoggedError {
  type: string;
  message: string;
  code?: string | number;
  stack?: string;
}

function truncate(text: string, maxChars: number): string {
  return text.length <= maxChars
    ? text
    : `${text.slice(0, maxChars)}... [${text.length - maxChars} more chars]`;
}

/**
 * Reduces an error to its type, message, code and stack, with message and stack truncated.
 * Every other own property is dropped because libraries attach request data to their errors:
 * ioredis puts a failed command's `command.args` (an uploaded image, a job result) and a
 * transaction's `previousErrors` on the error, which would copy patient data into the log.
 */
export function serializeError(error: unknown): LoggedError {
  if (error instanceof Error) {
    const logged: LoggedError = {
      type: error.constructor?.name || error.name || 'Error',
      message: truncate(String(error.message), MAX_LOGGED_MESSAGE_CHARS),
    };
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' || typeof code === 'number') logged.code = code;
    if (typeof error.stack === 'string') logged.stack = truncate(error.stack, MAX_LOGGED_STACK_CHARS);
    return logged;
  }
  if (typeof error === 'string')
    return { type: 'string', message: truncate(error, MAX_LOGGED_MESSAGE_CHARS) };
  if (error !== null && typeof error === 'object') {
    const message = (error as { message?: unknown }).message;
    return {
      type: error.constructor?.name || 'Object',
      message: typeof message === 'string' ? truncate(message, MAX_LOGGED_MESSAGE_CHARS) : '',
    };
  }
  return { type: typeof error, message: truncate(String(error), MAX_LOGGED_MESSAGE_CHARS) };
}

/**
 * Serializer of the `error` and `cause` log fields, which some call sites fill with a message
 * string: a string stays a string (truncated), anything else goes through `serializeError`.
 */
export function serializeErrorField(value: unknown): LoggedError | string {
  if (typeof value === 'string') return truncate(value, MAX_LOGGED_MESSAGE_CHARS);
  return serializeError(value);
}
