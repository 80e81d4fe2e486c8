/**
 * Every code a `ScanError` carries, with what it tells the person who reads it. A new failure adds
 * its code here (the README tables are checked against this list by test/model/error-codes.test.ts).
 */
export const ERROR_CODES = {
  // the image reference and platform a user gave
  "invalid-reference": "the image reference cannot be parsed (CLI exit 2)",
  "invalid-platform": "the --platform value is not os/arch[/variant] or `all` (CLI exit 2)",
  // registry access
  unauthorized: "the registry refused the credentials, or asked for some and none were given",
  denied: "the registry knows the credentials but they may not read this repository (403)",
  "not-found": "the repository, tag, manifest, blob or file does not exist",
  "rate-limited": "the registry still answers 429 after the retries (transient)",
  "registry-unavailable": "the registry answers 5xx after the retries (transient)",
  "registry-unreachable": "no connection to the registry after the retries: DNS, TCP or TLS (transient)",
  "token-request-failed": "the registry's token service refused or failed the token request",
  "registry-error": "the registry answered a status the client does not expect",
  "invalid-docker-config": "the Docker config.json holding registry credentials cannot be read",
  "registry-not-allowed": "the registry is not on the allow list (PORTCULLIS_REGISTRIES): nothing is fetched",
  // what the image is made of
  "invalid-manifest": "a manifest or index is not valid JSON or not a valid OCI/Docker manifest",
  "unsupported-media-type": "a manifest, config or layer has a media type the scanner does not read",
  "invalid-config": "the image config is not JSON or not a valid image config",
  "too-large": "a manifest, config or archive entry is over its size limit (limits.maxManifestBytes)",
  "no-image": "an index, layout or archive holds no container image",
  "platform-not-found": "the index has no image for the requested platform",
  "digest-mismatch": "fetched bytes do not match the digest they were asked for by",
  "unsupported-digest": "a digest uses an algorithm other than sha256 or sha512",
  "invalid-digest": "a digest's hex is malformed for its algorithm",
  "blob-read-failed": "reading a blob stopped before its end (transient)",
  // images on disk
  "invalid-layout": "the directory is not an OCI image layout (no oci-layout or index.json)",
  "invalid-archive": "the tar is truncated, malformed or not an image archive",
  "unsafe-path": "an archive entry name is absolute, has `..` or NUL, so it is refused",
  // layer analysis
  "layer-corrupt": "a layer's compressed stream or tar is damaged",
  "layer-too-large": "a layer unpacks to more bytes than limits allow",
  "layer-too-many-entries": "a layer holds more tar entries than limits allow",
  "layer-unsupported-compression": "a layer is compressed with something other than gzip, zstd or nothing",
  "layer-read-failed": "reading a layer from its source failed (transient)",
  "layer-analysis-failed": "an analyzer failed on a layer in a way the scan cannot work around",
  "layer-report-missing": "matching needs a layer report the cache does not hold (transient)",
  // vulnerability data
  "db-missing": "there is no vulnerability DB and none could be fetched",
  "db-corrupt": "the local vulnerability DB is damaged; `portcullis db update` rebuilds it",
  "db-feed-unreachable": "no connection to an OSV export feed (transient)",
  "db-feed-http": "an OSV export feed answered an error status",
  "db-feed-too-large": "an OSV export is over its size bound",
  "db-feed-interrupted": "the download of an OSV export stopped before its end (transient)",
  "db-feed-corrupt": "an OSV export is not a readable zip",
  "msrc-feed-unreachable": "no connection to the MSRC CVRF API (transient)",
  "msrc-feed-http": "the MSRC CVRF API answered an error status",
  "msrc-feed-too-large": "an MSRC document is over its size bound",
  "msrc-feed-malformed": "an MSRC document is not valid CVRF v3 JSON",
  // policy
  "policy-invalid": "the policy file cannot be used; the message names the key and the line",
  "vex-invalid": "a VEX document cannot be used; the message names the key and the line",
  // deployment
  "invalid-settings": "an app setting is missing or invalid; the message names the setting",
  "deploy-not-ready": "`npm run deploy` cannot go on: a tool is missing or the app is not built or packaged",
  // the pipeline's own tables, blobs and queues
  "concurrent-update": "a table row kept changing, or vanished, under other handlers' writes (transient)",
  "stage-blob-missing": "a blob one stage stored for the next is gone when the next reads it (transient)",
  "layer-lease-timeout":
    "another handler held a layer's lease past the wait bound with no report (transient)",
  "delivery-in-progress": "another delivery of the same push event is still being handled (transient)",
  "lock-lost": "a queue message's lock ran out before its handler was done: redelivered (transient)",
  // content rules a user adds
  "yara-rules-invalid": "a YARA rule directory is unreadable, or a rule file is too big, too many or broken",
  // the CLI's --server commands
  "server-unreachable": "the CLI cannot connect to the portcullis server --server names",
  "server-refused": "the portcullis server refused the CLI's --token or --function-key (401/403)",
  "server-route-missing": "the server has no such API route: not a portcullis server of this version",
  "server-error": "the portcullis server answered an error status, or an answer the CLI cannot read",
  "rescan-timeout": "`portcullis rescan` stopped waiting: the rescan was still running at --timeout",
} as const satisfies Record<string, string>;

export type ErrorCode = keyof typeof ERROR_CODES;

export const isErrorCode = (value: string): value is ErrorCode => Object.hasOwn(ERROR_CODES, value);
