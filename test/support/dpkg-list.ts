import { runTool } from "./run-tool.js";

/** One installed package as `dpkg-query` reports it: the expected answer for a dpkg analyzer. */
export interface DpkgPackage {
  name: string;
  version: string;
  sourceName: string;
  sourceVersion: string;
}

/** Lists the installed packages of a root filesystem with the real `dpkg-query`, sorted by name. */
export async function dpkgList(rootfs: string): Promise<DpkgPackage[]> {
  const { stdout } = await runTool("dpkg-query", [
    `--admindir=${rootfs}/var/lib/dpkg`,
    "-W",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own ${field} format, not JS
    "-f=${db:Status-Abbrev}\\t${Package}\\t${Version}\\t${source:Package}\\t${source:Version}\\n",
  ]);
  return stdout
    .split("\n")
    .filter((line) => line.startsWith("ii"))
    .map((line) => {
      const [, name, version, sourceName, sourceVersion] = line.split("\t") as [
        string,
        string,
        string,
        string,
        string,
      ];
      return { name, version, sourceName, sourceVersion };
    })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
