import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { openHive, RegfError } from "../../shared/analysis/windows/regf/index.js";
import { hiveAsDump } from "./support/hive-as-dump.js";
import { readHivexDump } from "./support/hivex-dump.js";
import { corpusPath } from "../support/corpus.js";

const fixture = (name: string) => corpusPath("hives", name);

const CORPUS: { hive: string; keys: number; values: number }[] = [
  { hive: "hivex/minimal", keys: 1, values: 0 },
  { hive: "hivex/special", keys: 4, values: 3 },
  { hive: "hivex/rlenvalue_test_hive", keys: 2, values: 6 },
  { hive: "hivex/large", keys: 1711, values: 3633 },
  { hive: "dfwinreg/NTUSER.DAT", keys: 1597, values: 2310 },
  { hive: "dfwinreg/SAM", keys: 76, values: 84 },
  { hive: "dfwinreg/SECURITY", keys: 101, values: 110 },
  { hive: "scancode/Software_Delta", keys: 12, values: 12 },
];

describe("regf reader against the hivex dumps of the corpus hives", () => {
  it.each(CORPUS)("reads every key and value of $hive as hivex does", ({ hive, keys, values }) => {
    const expected = readHivexDump(fixture(`${hive}.hivex.json`));
    const actual = hiveAsDump(openHive(readFileSync(fixture(hive))));
    expect(actual.length).toBe(keys);
    expect(actual.reduce((n, k) => n + k.values.length, 0)).toBe(values);
    expect(actual).toEqual(expected.keys);
  });

  it("keeps the embedded NUL and the UTF-16 names of 'special'", () => {
    const hive = openHive(readFileSync(fixture("hivex/special")));
    expect(
      hive
        .root()
        .subkeys()
        .map((k) => k.name),
    ).toEqual(["abcd_äöüß", "weird™", "zero\0key"]);
    expect(hive.subkey(["WEIRD™"])?.values()[0]?.name).toBe("symbols $£₤₧€");
    expect(hive.subkey(["zero\0key"])?.value("zero\0val")?.asNumber()).toBe(0);
  });

  it("assembles a big-data (db) value of NTUSER.DAT from its segments", () => {
    const hive = openHive(readFileSync(fixture("dfwinreg/NTUSER.DAT")));
    const big = [...hive.walk()].flatMap((k) => k.values()).find((v) => v.size > 16344);
    expect(big?.data.length).toBe(big?.size);
  });

  it("decodes REG_SZ values of the container Software_Delta", () => {
    const hive = openHive(readFileSync(fixture("scancode/Software_Delta")));
    const test = hive.subkey(["Microsoft", "Windows", "CurrentVersion", "Uninstall", "Test"]);
    expect(test?.value("DisplayName")?.asString()).toBe("Test");
    expect(test?.value("displayversion")?.asString()).toBe("0.0.1");
  });

  it("rejects a Windows 9x CREG file as not regf", () => {
    const buf = readFileSync(fixture("dfwinreg/USER.DAT.win9x-CREG"));
    expect(() => openHive(buf)).toThrow(RegfError);
    expect(() => openHive(buf)).toThrow(/not-regf at 0x0: signature is "CREG"/);
  });
});
