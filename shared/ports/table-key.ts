/**
 * The one reversible encoding of PartitionKey/RowKey values, used by every TableStore adapter.
 *
 * Table keys may not contain `/ \ # ?` or control characters (U+0000–U+001F, U+007F–U+009F), and
 * image repositories are full of `/`. Each such character becomes `~XX` (its code, two upper-case
 * hex digits). Besides the forbidden set we also escape:
 *   - `~`, the escape character itself, so decoding is unambiguous;
 *   - `%`, because Azure Tables double-decodes keys in the URL path (GET/update/delete of a key
 *     containing `%` answers 404/400 or touches a different entity);
 *   - `'`, because OData quotes keys with it and Azurite fails to delete such entities.
 *
 * Why not base64url: the encoding works character by character, so encode(a + b) = encode(a) +
 * encode(b). A prefix query ("every image of docker.io/library/") therefore stays a prefix query on
 * the encoded keys, and keys stay readable in Storage Explorer ("docker.io~2Flibrary~2Fnginx").
 * Every other character (letters, digits, `:@.-_`, any non-ASCII) is kept as is.
 */

const ESCAPED = /[\u0000-\u001f\u007f-\u009f/\\#?~%']/g;
const ENCODED = /~([0-9A-F]{2})/g;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * One key property holds 1 KiB of UTF-16: 512 code units. (Azure's docs also say "1024 characters";
 * Azurite enforces 512, so we take the stricter reading and fail here with a clear error.)
 */
export const MAX_TABLE_KEY_LENGTH = 512;

export class TableKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TableKeyError";
  }
}

export function encodeTableKey(key: string): string {
  // A lone surrogate cannot travel as UTF-8, so it would not come back as it went in.
  if (LONE_SURROGATE.test(key)) throw new TableKeyError("table key contains a lone UTF-16 surrogate");
  const encoded = key.replace(
    ESCAPED,
    (c) => `~${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`,
  );
  if (encoded.length > MAX_TABLE_KEY_LENGTH) {
    throw new TableKeyError(`table key too long (${encoded.length} > ${MAX_TABLE_KEY_LENGTH} once encoded)`);
  }
  return encoded;
}

export function decodeTableKey(encoded: string): string {
  return encoded.replace(ENCODED, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}
