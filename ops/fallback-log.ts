// Where a module reports an error when its caller passed no handler (a test, a script): a pino JSON line
// on standard error with the error's stack, like every other log line of Anju, instead of
// process.emitWarning's bare string. A running server always passes its own logger's handler.
import { pino, type Logger } from 'pino';

let fallback: Logger | undefined;

/** An error handler that logs `{ err, part }` with `message` at error level. */
export function logErrors(part: string, message: string): (err: unknown) => void {
  return (err) => {
    fallback ??= pino({ name: 'anju' }, pino.destination(2));
    fallback.error({ err, part }, message);
  };
}
