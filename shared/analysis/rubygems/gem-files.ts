export interface Gem {
  name: string;
  version: string;
}

const NAME = /^[A-Za-z0-9][\w.-]{0,199}$/;
const VERSION = /^\d[\w.]{0,99}$/;

const gem = (name: string | undefined, version: string | undefined): Gem | undefined =>
  name && version && NAME.test(name) && VERSION.test(version) ? { name, version } : undefined;

/**
 * An installed `specifications/*.gemspec` (what `Gem::Specification#to_ruby` writes): never run,
 * only its `s.name = "…"` and `s.version = "…"` lines, or the `# stub: name version` header.
 */
export function readGemspec(text: string): Gem | undefined {
  const head = text.slice(0, 64 * 1024);
  // blanks within the line only: `^\s*` would rescan every following blank line from each one (quadratic)
  const name = /^[ \t]*\w+\.name[ \t]*=[ \t]*["']([^"']+)["']/m.exec(head)?.[1];
  const version = /^[ \t]*\w+\.version[ \t]*=[ \t]*["']([^"']+)["']/m.exec(head)?.[1];
  const found = gem(name, version);
  if (found) return found;
  const stub = /^# stub: (\S+) (\S+)/m.exec(head);
  return gem(stub?.[1], stub?.[2]);
}

/**
 * Gemfile.lock: the `specs:` of each `GEM` section (rubygems.org and other gem servers), four
 * spaces in; `GIT` and `PATH` sections are not published gems. A platform suffix is dropped.
 */
export function readGemfileLock(text: string): { gems: Gem[]; problems: string[] } {
  const gems: Gem[] = [];
  const problems: string[] = [];
  let section = "";
  let inSpecs = false;
  for (const line of text.split(/\r?\n/)) {
    if (/^[A-Z]/.test(line)) {
      section = line.trim();
      inSpecs = false;
      continue;
    }
    if (line === "  specs:") {
      inSpecs = true;
      continue;
    }
    if (section !== "GEM" || !inSpecs) continue;
    const m = /^ {4}([^\s(]+) \(([^)]+)\)$/.exec(line);
    if (!m) continue;
    // "1.13.3-x86_64-linux": gem versions never hold a dash, platforms follow one
    const found = gem(m[1], m[2]!.split("-")[0]);
    if (found) gems.push(found);
    else problems.push(`${m[1]} (${m[2]}) is not a gem version`);
  }
  return { gems, problems };
}
