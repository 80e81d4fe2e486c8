import { describe, expect, it } from "vitest";
import { type Hive, openHive, RegType } from "../../shared/analysis/windows/regf/index.js";
import { buildHiveWithHivex } from "./support/hivexregedit.js";
import { type ExportedKeys, parseRegExport } from "./support/reg-export.js";
import type { RegKey } from "./support/reg-file.js";

const utf16z = (s: string) => Buffer.from(`${s}\0`, "utf16le");
const multiSz = (items: string[]) => Buffer.from(`${items.join("\0")}\0\0`, "utf16le");
const bigBinary = Buffer.from(Array.from({ length: 40_000 }, (_, i) => (i * 7 + (i >> 8)) & 0xff));

// hivexregedit turns each byte of a quoted string into one UTF-16 unit, so non-ASCII text goes in as hex(1)
const SOFTWARE_LIKE: RegKey[] = [
  {
    path: ["Microsoft", "Windows NT", "CurrentVersion"],
    values: [
      { name: "ProductName", string: "Windows Server 2022 Datacenter" },
      { name: "CurrentBuildNumber", string: "20348" },
      { name: "UBR", dword: 2700 },
      { name: "InstallationType", string: "Server Core" },
      { name: "PathName", type: RegType.EXPAND_SZ, bytes: utf16z("%SystemRoot%") },
      { name: "Features", type: RegType.MULTI_SZ, bytes: multiSz(["NetFx4", "Server-Core", "IIS"]) },
      { name: "InstallTime", type: RegType.QWORD, bytes: Buffer.from("00c0a8f4b2e7d901", "hex") },
      { name: "BigEndian", type: RegType.DWORD_BIG_ENDIAN, bytes: Buffer.from("00010002", "hex") },
      { name: "DigitalProductId4", type: RegType.BINARY, bytes: bigBinary },
      { name: "Small", type: RegType.BINARY, bytes: Buffer.from("0102", "hex") },
      { name: "Empty", type: RegType.BINARY, bytes: Buffer.alloc(0) },
    ],
  },
  {
    path: ["Microsoft", "Windows NT", "CurrentVersion", "Winlogon"],
    values: [{ name: "", string: "default" }],
  },
  {
    path: ["Café™ Ünïcode", "Ω"],
    values: [
      { name: "€ price", type: RegType.SZ, bytes: utf16z("10€") },
      { name: "Latin ÿ", dword: 1 },
    ],
  },
  ...Array.from({ length: 300 }, (_, i) => ({
    path: [
      "Microsoft",
      "Windows",
      "CurrentVersion",
      "Uninstall",
      `{${i.toString(16).padStart(8, "0")}-PROGRAM}`,
    ],
    values: [
      { name: "DisplayName", string: `Program ${i}` },
      { name: "DisplayVersion", string: `1.${i}.0` },
    ],
  })),
];

function hiveAsExport(hive: Hive): ExportedKeys {
  const out: ExportedKeys = new Map();
  for (const key of hive.walk()) {
    out.set(
      key.path.join("\\"),
      new Map(key.values().map((v) => [v.name, { type: v.type, hex: v.data.toString("hex") }])),
    );
  }
  return out;
}

describe("regf reader against hives built with hivexregedit --merge", () => {
  const { hive: bytes, exported } = buildHiveWithHivex("ROOT", SOFTWARE_LIKE);
  const hive = openHive(bytes);

  it("agrees with hivexregedit --export on every key and value", () => {
    const oracle = parseRegExport(exported);
    const ours = hiveAsExport(hive);
    expect(ours.size).toBe(oracle.size);
    expect(ours.size).toBeGreaterThan(300);
    expect(ours).toEqual(oracle);
  });

  it("decodes the CurrentVersion values by type", () => {
    const cv = hive.subkey(["Microsoft", "Windows NT", "CurrentVersion"])!;
    expect(cv.value("ProductName")?.asString()).toBe("Windows Server 2022 Datacenter");
    expect(cv.value("ubr")?.asNumber()).toBe(2700);
    expect(cv.value("PathName")?.asString()).toBe("%SystemRoot%");
    expect(cv.value("Features")?.asStrings()).toEqual(["NetFx4", "Server-Core", "IIS"]);
    expect(cv.value("InstallTime")?.asBigInt()).toBe(0x01d9e7b2f4a8c000n);
    expect(cv.value("BigEndian")?.asNumber()).toBe(0x00010002);
    expect(cv.value("DigitalProductId4")?.data.equals(bigBinary)).toBe(true);
    expect(cv.value("Empty")?.data.length).toBe(0);
    expect(
      hive.subkey(["Microsoft", "Windows NT", "CurrentVersion", "Winlogon"])?.value("")?.asString(),
    ).toBe("default");
  });

  it("reads UTF-16 key and value names that hivex wrote", () => {
    const omega = hive.subkey(["café™ ünïcode", "ω"]);
    expect(omega?.path).toEqual(["Café™ Ünïcode", "Ω"]);
    expect(omega?.value("€ price")?.asString()).toBe("10€");
    expect(omega?.value("Latin ÿ")?.asNumber()).toBe(1);
  });

  it("lists all 300 Uninstall subkeys", () => {
    const uninstall = hive.subkey(["Microsoft", "Windows", "CurrentVersion", "Uninstall"])!;
    expect(uninstall.subkeys()).toHaveLength(300);
    expect(uninstall.subkey("{0000012b-PROGRAM}")?.value("DisplayName")?.asString()).toBe("Program 299");
  });
});
