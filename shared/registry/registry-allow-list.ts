import picomatch from "picomatch";

/** ACR's public suffix: the Azure default when no registry is configured by name. */
export const ANY_ACR = "*.azurecr.io";

/**
 * The registries the scanner may connect to, as `host[:port]` globs (`*.azurecr.io`,
 * `registry.local:*`). Events name hosts; only an allowed one is ever contacted.
 */
export class RegistryAllowList {
  readonly patterns: readonly string[];
  readonly #match: (host: string) => boolean;

  constructor(patterns: readonly string[]) {
    this.patterns = patterns.map((p) => p.trim().toLowerCase()).filter((p) => p !== "");
    // dots are ordinary characters here; `*` never crosses a `/`, and a host has none
    const matchers = this.patterns.map((p) => picomatch(p, { dot: true, nocase: true }));
    this.#match = (host) => matchers.some((m) => m(host));
  }

  allows(host: string): boolean {
    return this.#match(host.toLowerCase());
  }

  /** What a refused event or scan is told. */
  refusal(host: string): string {
    const list = this.patterns.length ? this.patterns.join(", ") : "empty";
    return `registry ${host} is not on the allow list (PORTCULLIS_REGISTRIES: ${list}); add it there, or name it with --insecure-registry / PORTCULLIS_ACR_REGISTRIES`;
  }
}
