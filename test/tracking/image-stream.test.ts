import { describe, expect, it } from "vitest";
import { markerKeyOf, streamKey, streamMarker, streamOfKey } from "../../shared/tracking/image-stream.js";

/** A lost ledger is rebuilt from the markers of issues on GitHub: a marker is read back into a stream, or refused. */
describe("the stream a marker names", () => {
  it.each([
    ["registry.test:5000", "team/app", undefined],
    ["ghcr.io", "acme/tools/cli", "1.x"],
  ])("round-trips %s/%s#%s through the issue's marker", (registry, repository, name) => {
    const key = streamKey(registry, repository, name);
    const back = markerKeyOf(`text\n${streamMarker(key)}\nmore`);
    expect(streamOfKey(back!)).toEqual({ registry, repository, ...(name ? { name } : {}), key });
  });

  it.each(["", "no-slash", "/team/app", "r.test/", "r.test/app#", "r.test/app#a#b", "r.test/#x"])(
    "refuses %j",
    (key) => {
      expect(streamOfKey(key)).toBeUndefined();
    },
  );
});
