/** One version scheme (Renovate's versioning modules are the model). */
export interface Versioning {
  /** Short scheme name, e.g. `dpkg`, `rpm`, `semver`: used in messages and tests. */
  readonly id: string;
  /** OSV ecosystem names (without release suffix) this scheme serves. */
  readonly ecosystems: readonly string[];
  /** Whether the scheme's own tool would parse `version` without complaint. */
  isValid(version: string): boolean;
  /**
   * negative when a < b, 0 when equal, positive when a > b. Never throws: a string that is not
   * valid still gets a deterministic place (check `isValid` first where that matters).
   */
  compare(a: string, b: string): number;
}
