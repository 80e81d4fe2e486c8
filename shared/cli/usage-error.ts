/** A mistake in how the CLI was called: exit code 2 with a one-line reason. */
export class UsageError extends Error {
  override name = "UsageError";
}
