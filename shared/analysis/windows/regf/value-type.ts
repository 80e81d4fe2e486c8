/** REG_* value types (winnt.h). */
export const RegType = {
  NONE: 0,
  SZ: 1,
  EXPAND_SZ: 2,
  BINARY: 3,
  DWORD: 4,
  DWORD_BIG_ENDIAN: 5,
  LINK: 6,
  MULTI_SZ: 7,
  RESOURCE_LIST: 8,
  FULL_RESOURCE_DESCRIPTOR: 9,
  RESOURCE_REQUIREMENTS_LIST: 10,
  QWORD: 11,
} as const;

const NAMES = new Map<number, string>(Object.entries(RegType).map(([name, n]) => [n, `REG_${name}`]));

export function regTypeName(type: number): string {
  return NAMES.get(type) ?? `REG_UNKNOWN_${type}`;
}
