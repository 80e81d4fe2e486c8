/** A periodic job that never overlaps itself; its failures are logged, not thrown. */
export function intervalTask(
  name: string,
  everyMs: number,
  run: () => Promise<unknown>,
  log: (message: string) => void,
): { stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  const tick = () => {
    if (running) return;
    running = run()
      .then(() => undefined)
      .catch((err: unknown) => log(`${name}: ${(err as Error).message ?? String(err)}`))
      .finally(() => {
        running = undefined;
      });
  };
  const timer = setInterval(tick, everyMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
