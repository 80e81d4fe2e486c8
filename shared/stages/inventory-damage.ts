import { ZodError, z } from "zod";

/** Why a stored inventory blob is not an inventory, in one line (the rescan failure's reason). */
export const describeDamage = (err: unknown): string =>
  err instanceof ZodError
    ? `not an inventory (${z.prettifyError(err).split("\n")[0]})`
    : err instanceof Error
      ? err.message.replace(/\s+/g, " ").slice(0, 300)
      : String(err);
