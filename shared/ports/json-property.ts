import { z } from "zod";

/**
 * A table property holding JSON (Table Storage has no nested values): parses the string, then
 * validates it with `schema`. One codec for every table owner that stores structured properties.
 */
export const jsonProperty = <T extends z.ZodType>(schema: T) =>
  z
    .string()
    .transform((s, ctx) => {
      try {
        return JSON.parse(s) as unknown;
      } catch {
        ctx.addIssue({ code: "custom", message: "not JSON" });
        return z.NEVER;
      }
    })
    .pipe(schema);
