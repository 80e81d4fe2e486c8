/** One version scheme (Renovate's versioning modules are the model). */
export interface Versioning {
  /** OSV ecosystem names (without release suffix) this scheme serves. */
  readonly ecosystems: readonly string[];
  isValid(version: string): boolean;
  /** negative when a < b, 0 when equal, positive when a > b */
  compare(a: string, b: string): number;
}
