/**
 * clamd could not be reached, timed out, or answered something other than a verdict. The content
 * analyzer turns it into a `clamd-unavailable` warning: never a clean pass.
 */
export class ClamdError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ClamdError";
  }
}
