import { Readable } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { ScanError } from "../model/errors.js";
import { DEFAULT_LIMITS, type Limits } from "../model/limits.js";
import { readBoundedBody } from "./bounded-body.js";
import { parseDigest } from "../model/digest.js";
import { sha256Digest, verifyDigest } from "./digest.js";
import type { ManifestContent } from "./manifest-document.js";
import { MANIFEST_ACCEPT } from "./media-types.js";
import {
  createRegistryRequest,
  type RegistryRequest,
  type RegistryRequestOptions,
} from "./registry-request.js";
import { TransferStats } from "./transfer-stats.js";
import { type ProgressCallback, verifyBlobStream } from "./verified-blob-stream.js";

export interface RegistryClientOptions extends RegistryRequestOptions {
  limits?: Partial<Limits>;
}

/** Where a repository lives: `docker.io` + `library/alpine`, called on `registry-1.docker.io`. */
export interface RepositoryLocation {
  registry: string;
  apiHost: string;
  repository: string;
}

/** The OCI distribution API calls the scanner needs: manifests, configs and layer blobs (pull only). */
export class RegistryClient {
  readonly stats: TransferStats;
  readonly limits: Limits;
  private readonly request: RegistryRequest;
  private readonly fetch: typeof globalThis.fetch;
  private readonly userAgent: string;

  constructor(options: RegistryClientOptions = {}) {
    this.stats = options.stats ?? new TransferStats();
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.request = createRegistryRequest({ ...options, stats: this.stats });
    this.fetch = options.fetch ?? globalThis.fetch;
    this.userAgent = options.userAgent ?? "portcullis";
  }

  /** GETs a manifest or index by tag or digest; by digest the bytes are verified against it. */
  async getManifest(
    location: RepositoryLocation,
    reference: string,
    expectedSize?: number,
  ): Promise<ManifestContent> {
    const byDigest = reference.includes(":");
    const what = `manifest ${name(location)}${byDigest ? "@" : ":"}${reference}`;
    if (byDigest) parseDigest(reference);
    const max = this.limits.maxManifestBytes;
    if (expectedSize !== undefined && expectedSize > max) {
      throw new ScanError(
        "too-large",
        `${what}: ${expectedSize} bytes, over the ${max}-byte limit (limits.maxManifestBytes)`,
      );
    }
    const response = await this.request({
      ...where(location),
      path: `/v2/${location.repository}/manifests/${reference}`,
      headers: { accept: MANIFEST_ACCEPT },
      kind: "manifest",
      what,
    });
    const bytes = await readBoundedBody(response, max, what);
    if (byDigest) verifyDigest(bytes, reference, what);
    const content: ManifestContent = { bytes, digest: byDigest ? reference : sha256Digest(bytes) };
    const contentType = response.headers.get("content-type");
    if (contentType) content.mediaType = contentType;
    return content;
  }

  /**
   * HEADs a manifest by tag: the digest and media type it points at now, or undefined when the tag
   * is gone (404). No body is read. The Accept header matters: Distribution 404s an OCI manifest without it.
   */
  async headManifest(
    location: RepositoryLocation,
    reference: string,
  ): Promise<{ digest?: string; mediaType?: string } | undefined> {
    let response: Response;
    try {
      response = await this.request({
        ...where(location),
        path: `/v2/${location.repository}/manifests/${reference}`,
        method: "HEAD",
        headers: { accept: MANIFEST_ACCEPT },
        kind: "manifest",
        what: `manifest ${name(location)}:${reference}`,
      });
    } catch (err) {
      if (err instanceof ScanError && err.code === "not-found") return undefined;
      throw err;
    }
    await response.body?.cancel();
    const digest = response.headers.get("docker-content-digest") ?? undefined;
    const mediaType = response.headers.get("content-type")?.split(";")[0]?.trim();
    return { ...(digest ? { digest } : {}), ...(mediaType ? { mediaType } : {}) };
  }

  /** Reads a small blob (an image config) into memory, bounded by limits.maxManifestBytes and verified. */
  async getBlob(
    location: RepositoryLocation,
    descriptor: { digest: string; size?: number },
  ): Promise<Buffer> {
    const what = `blob ${name(location)}@${descriptor.digest}`;
    const max = this.limits.maxManifestBytes;
    if (descriptor.size !== undefined && descriptor.size > max) {
      throw new ScanError(
        "too-large",
        `${what}: ${descriptor.size} bytes, over the ${max}-byte limit (limits.maxManifestBytes)`,
      );
    }
    const response = await this.blobResponse(location, descriptor.digest, what, "config");
    const bytes = await readBoundedBody(response, max, what);
    verifyDigest(bytes, descriptor.digest, what);
    return bytes;
  }

  /** Streams a layer blob as stored; the stream fails with `digest-mismatch` when the bytes are not the digest's. */
  async openBlob(
    location: RepositoryLocation,
    layer: { digest: string; size?: number },
    options: { onProgress?: ProgressCallback } = {},
  ): Promise<Readable> {
    const what = `layer ${layer.digest} of ${name(location)}`;
    parseDigest(layer.digest);
    const response = await this.blobResponse(location, layer.digest, what, "blob");
    if (!response.body)
      throw new ScanError("blob-read-failed", `${what}: empty response`, { permanent: false });
    const body = Readable.fromWeb(response.body as WebReadableStream<Uint8Array>);
    const expected = {
      digest: layer.digest,
      what,
      stats: this.stats,
      ...pick(layer.size, options.onProgress),
    };
    return verifyBlobStream(body, expected);
  }

  /**
   * Streams a foreign / non-distributable layer from the first of its `urls` that answers: http(s)
   * only, a plain GET with no registry credentials (the host is the image author's choice, not the
   * registry), digest-verified like any blob. When no URL answers, why each failed.
   */
  async openForeignBlob(
    layer: { digest: string; size?: number; urls?: readonly string[] },
    options: { onProgress?: ProgressCallback } = {},
  ): Promise<{ stream: Readable } | { failures: string[] }> {
    parseDigest(layer.digest);
    const failures: string[] = [];
    for (const url of layer.urls ?? []) {
      if (!/^https?:\/\/[^/]/i.test(url)) {
        failures.push(`${url}: not an http(s) URL`);
        continue;
      }
      let response: Response;
      try {
        this.stats.requests++;
        this.stats.blobRequests++;
        response = await this.fetch(url, { headers: { "user-agent": this.userAgent } });
      } catch (err) {
        failures.push(`${url}: ${(err as Error).message}`);
        continue;
      }
      if (!response.ok || !response.body) {
        await response.body?.cancel();
        failures.push(`${url}: HTTP ${response.status}`);
        continue;
      }
      const body = Readable.fromWeb(response.body as WebReadableStream<Uint8Array>);
      const what = `foreign layer ${layer.digest} from ${url}`;
      const expected = {
        digest: layer.digest,
        what,
        stats: this.stats,
        ...pick(layer.size, options.onProgress),
      };
      return { stream: verifyBlobStream(body, expected) };
    }
    return { failures };
  }

  private blobResponse(
    location: RepositoryLocation,
    digest: string,
    what: string,
    kind: "config" | "blob",
  ): Promise<Response> {
    return this.request({
      ...where(location),
      path: `/v2/${location.repository}/blobs/${digest}`,
      kind,
      what,
    });
  }
}

function where({ registry, apiHost, repository }: RepositoryLocation): RepositoryLocation {
  return { registry, apiHost, repository };
}

function name(location: RepositoryLocation): string {
  return `${location.registry}/${location.repository}`;
}

function pick(size: number | undefined, onProgress: ProgressCallback | undefined) {
  return { ...(size === undefined ? {} : { size }), ...(onProgress ? { onProgress } : {}) };
}
