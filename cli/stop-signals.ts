// Stopping a command that runs until stopped (sim, demo): the first Ctrl-C (SIGINT) or SIGTERM aborts
// the run, which stops cleanly and prints its summary; a second one exits at once.

/** `notice` is written to stderr on the first signal, saying what is stopping. */
export function abortOnSignals(notice: string): AbortController {
  const controller = new AbortController();
  const onSignal = () => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write(`${notice}\n`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return controller;
}
