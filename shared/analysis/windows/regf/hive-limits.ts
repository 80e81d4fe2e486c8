/** Bounds on what a hostile hive can make the reader do; every one is enforced, none is advisory. */
export interface HiveLimits {
  /** deepest key nesting followed (Windows itself stops at 512) */
  maxDepth: number;
  /** keys materialised over the life of one Hive */
  maxKeys: number;
  /** largest value data assembled into memory */
  maxValueBytes: number;
}

export const DEFAULT_HIVE_LIMITS: HiveLimits = {
  maxDepth: 512,
  maxKeys: 1_000_000,
  maxValueBytes: 16 * 1024 * 1024,
};
