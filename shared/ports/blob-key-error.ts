/** A blob key every adapter refuses (`assertBlobKey`): empty, absolute, `.`/`..`, control characters, reserved. */
export class BlobKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BlobKeyError";
  }
}
