/**
 * .NET Framework 4.5+ `NDP\v4\Full` Release DWORD → version: the smallest Release each version
 * sets (Microsoft's "Determine which .NET Framework versions are installed" table).
 */
const RELEASES: readonly [number, string][] = [
  [533320, "4.8.1"],
  [528040, "4.8"],
  [461808, "4.7.2"],
  [461308, "4.7.1"],
  [460798, "4.7"],
  [394802, "4.6.2"],
  [394254, "4.6.1"],
  [393295, "4.6"],
  [379893, "4.5.2"],
  [378675, "4.5.1"],
  [378389, "4.5"],
];

export function netFrameworkVersion(release: number): string | undefined {
  return RELEASES.find(([min]) => release >= min)?.[1];
}
