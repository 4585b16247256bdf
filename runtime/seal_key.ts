/**
 * Ed25519 keys that sign run seals, through Web Crypto only, and the two
 * files they live in:
 *
 * - `PREFIX.key`, mode 0600: `{"algorithm":"Ed25519","keyid":K,"pkcs8":P,"schema":"ErsSealKey.v0","spki":S}`
 * - `PREFIX.pub`: `{"algorithm":"Ed25519","keyid":K,"schema":"ErsSealPublicKey.v0","spki":S}`
 *
 * `P` and `S` are standard base64 of the PKCS #8 and SubjectPublicKeyInfo DER
 * encodings (what `openssl pkey -inform DER` reads), and the key id `K` is the
 * lowercase hex SHA-256 of the SPKI DER bytes. Each file is canonical JSON
 * and a newline.
 *
 * @module
 */

import { parseJson } from "./_json.ts";
import { constants, type FileHandle, open } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { canonicalJsonString } from "../ers/_canonical.ts";
import { sha256Hex } from "../ers/_sha256.ts";
import { isPlainObject, orDefault, typeError } from "../ers/_validate.ts";
import { SealError } from "./errors.ts";
import { fromBase64, toBase64 } from "./_dsse.ts";

/**
 * A public key that checks seals: its id and the Web Crypto key.
 *
 * @example Read from a `.pub` file
 * ```ts
 * import { generateSealKey, readSealPublicKey, type SealPublicKey } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   const files = await generateSealKey(`${dir}/ci`);
 *   const key: SealPublicKey = await readSealPublicKey(files.pubPath);
 *   assert.equal(key.keyid, files.keyid);
 *   assert.equal(key.publicKey.algorithm.name, "Ed25519");
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export interface SealPublicKey {
  /** Lowercase hex SHA-256 of the public key's SPKI DER bytes. */
  readonly keyid: string;
  /** The Ed25519 public key. */
  readonly publicKey: CryptoKey;
}

/**
 * A key that signs seals: the private key, and its public half (so it can
 * check seals too).
 *
 * @example The private key cannot be exported again
 * ```ts
 * import { generateSealKey, readSealKey, type SealSigningKey } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   const files = await generateSealKey(`${dir}/ci`);
 *   const key: SealSigningKey = await readSealKey(files.keyPath);
 *   assert.equal(key.keyid, files.keyid);
 *   assert.equal(key.privateKey.extractable, false);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export interface SealSigningKey extends SealPublicKey {
  /** The Ed25519 private key (not extractable). */
  readonly privateKey: CryptoKey;
}

/**
 * What {@linkcode generateSealKey} wrote.
 *
 * @example Two files beside each other
 * ```ts
 * import { generateSealKey, type SealKeyFiles } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   const files: SealKeyFiles = await generateSealKey(`${dir}/ci`);
 *   assert.equal(files.keyPath, `${dir}/ci.key`);
 *   assert.equal(files.pubPath, `${dir}/ci.pub`);
 *   assert.match(files.keyid, /^[0-9a-f]{64}$/);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export interface SealKeyFiles {
  /** The key id, lowercase hex SHA-256 of the public key's SPKI DER bytes. */
  keyid: string;
  /** The private key file, `PREFIX.key`, mode 0600. */
  keyPath: string;
  /** The public key file, `PREFIX.pub`. */
  pubPath: string;
}

/**
 * Options for {@linkcode generateSealKey}.
 *
 * @example Replacing a key on purpose
 * ```ts
 * import { generateSealKey, type GenerateSealKeyOptions } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   const first = await generateSealKey(`${dir}/ci`);
 *   const options: GenerateSealKeyOptions = { overwrite: true };
 *   const second = await generateSealKey(`${dir}/ci`, options);
 *   assert.notEqual(second.keyid, first.keyid);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export interface GenerateSealKeyOptions {
  /**
   * Replace `PREFIX.key` and `PREFIX.pub` when they exist. Seals made with the
   * old key then verify only with the old `.pub`.
   *
   * @default {false}
   */
  overwrite?: boolean;
}

const ED25519 = { name: "Ed25519" } as const;
const KEY_SCHEMA = "ErsSealKey.v0";
const PUB_SCHEMA = "ErsSealPublicKey.v0";
// A key file is about 250 bytes; anything far larger is not one, and is not read.
const MAX_KEY_FILE_BYTES = 4096;
const PAIR_CHECK = new TextEncoder().encode("ERS seal key pair check");

/**
 * Generates an Ed25519 key pair with Web Crypto and writes `PREFIX.key` (the
 * private key, mode 0600) and `PREFIX.pub` (the public key). Each file is
 * written beside its place and then linked (or, with `overwrite`, renamed)
 * into it, so it is whole or absent. Without `overwrite`, an existing file at
 * either path is never replaced.
 *
 * @param prefix The path both files start with; its directory must exist.
 * @param options Whether to replace existing files.
 * @returns The key id and both paths.
 * @throws {TypeError} When `prefix` is not a non-empty string or `options`
 * not an object.
 * @throws {SealError} When either file exists (without `overwrite`) or its
 * directory does not; naming the path. Nothing is left behind.
 *
 * @example A key pair, and a refusal to overwrite it
 * ```ts
 * import { generateSealKey, SealError } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   const { keyPath, pubPath } = await generateSealKey(`${dir}/ci`);
 *   assert.equal((await Deno.stat(keyPath)).mode! & 0o777, 0o600);
 *   assert.equal(JSON.parse(await Deno.readTextFile(pubPath)).schema, "ErsSealPublicKey.v0");
 *   await assert.rejects(generateSealKey(`${dir}/ci`), SealError);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function generateSealKey(
  prefix: string,
  options: GenerateSealKeyOptions = {},
): Promise<SealKeyFiles> {
  const action = "generate seal key";
  if (typeof prefix !== "string" || prefix.length === 0) {
    typeError(action, "prefix", "a non-empty path string", prefix);
  }
  if (!isPlainObject(options)) typeError(action, "options", "an object", options);
  const overwrite = orDefault(options.overwrite, false);
  if (typeof overwrite !== "boolean") {
    typeError(action, "options.overwrite", "a boolean", overwrite);
  }
  const keyPath = `${prefix}.key`;
  const pubPath = `${prefix}.pub`;
  const pair = await crypto.subtle.generateKey(ED25519, true, ["sign", "verify"]) as CryptoKeyPair;
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", pair.publicKey));
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", pair.privateKey));
  const keyid = await sha256Hex(spki);
  const common = { algorithm: "Ed25519", keyid, spki: toBase64(spki) };
  const keyText = { ...common, pkcs8: toBase64(pkcs8), schema: KEY_SCHEMA };
  const pubText = { ...common, schema: PUB_SCHEMA };
  if (!overwrite) {
    for (const path of [keyPath, pubPath]) {
      if (await exists(path)) {
        throw keyExistsError(path);
      }
    }
  }
  await writeKeyFile(keyPath, keyText, 0o600, overwrite);
  try {
    await writeKeyFile(pubPath, pubText, 0o644, overwrite);
  } catch (error) {
    if (!overwrite) await Deno.remove(keyPath).catch(() => {});
    throw error;
  }
  return { keyid, keyPath, pubPath };
}

/**
 * Reads a private key file (`PREFIX.key`) written by
 * {@linkcode generateSealKey}. The file must be a regular file that only its
 * owner can read or write, and its key must pair with the public key and key
 * id it names (checked by signing and verifying a fixed message).
 *
 * @param path The `.key` file.
 * @returns The signing key.
 * @throws {SealError} Naming the path and what is wrong: missing, not a
 * regular file, readable by others, too large, not JSON, a missing or bad
 * field, a key id that is not the public key's, or a pair that does not match.
 *
 * @example A public key file is not a private key
 * ```ts
 * import { generateSealKey, readSealKey, SealError } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   const files = await generateSealKey(`${dir}/ci`);
 *   assert.equal((await readSealKey(files.keyPath)).keyid, files.keyid);
 *   await assert.rejects(readSealKey(files.pubPath), SealError);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function readSealKey(path: string): Promise<SealSigningKey> {
  const fields = await readKeyFile(path, KEY_SCHEMA, true);
  const pkcs8 = base64Field(path, fields, "pkcs8");
  const privateKey = await crypto.subtle.importKey("pkcs8", pkcs8, ED25519, false, ["sign"])
    .catch(() => keyFileError(path, "its 'pkcs8' is not an Ed25519 private key"));
  const { keyid, publicKey } = await publicKeyOf(path, fields);
  const signature = await crypto.subtle.sign(ED25519, privateKey, PAIR_CHECK);
  if (!(await crypto.subtle.verify(ED25519, publicKey, signature, PAIR_CHECK))) {
    keyFileError(path, "its private key does not pair with its 'spki' public key");
  }
  return Object.freeze({ keyid, publicKey, privateKey });
}

/**
 * Reads a public key file (`PREFIX.pub`) written by
 * {@linkcode generateSealKey}.
 *
 * @param path The `.pub` file.
 * @returns The public key and its id.
 * @throws {SealError} Naming the path and what is wrong: missing, not a
 * regular file, too large, not JSON, a missing or bad field, or a key id that
 * is not the SHA-256 of the public key.
 *
 * @example A missing file is named
 * ```ts
 * import { readSealPublicKey, SealError } from "@abraxas/ers/runtime";
 * import assert from "node:assert/strict";
 *
 * await assert.rejects(readSealPublicKey("no/such.pub"), (error: unknown) => {
 *   assert.ok(error instanceof SealError);
 *   assert.equal(error.message, "Cannot use seal key file no/such.pub: it does not exist");
 *   return true;
 * });
 * ```
 */
export async function readSealPublicKey(path: string): Promise<SealPublicKey> {
  return Object.freeze(await publicKeyOf(path, await readKeyFile(path, PUB_SCHEMA, false)));
}

async function publicKeyOf(
  path: string,
  fields: Record<string, unknown>,
): Promise<SealPublicKey> {
  const spki = base64Field(path, fields, "spki");
  const publicKey = await crypto.subtle.importKey("spki", spki, ED25519, true, ["verify"])
    .catch(() => keyFileError(path, "its 'spki' is not an Ed25519 public key"));
  const keyid = await sha256Hex(spki);
  if (fields.keyid !== keyid) {
    keyFileError(path, `its 'keyid' is not the SHA-256 of its public key, ${keyid}`);
  }
  return { keyid, publicKey };
}

function keyExistsError(path: string): SealError {
  return new SealError(
    path,
    `Cannot generate seal key as ${path} exists: remove it, or replace it on purpose (overwrite: true; ers keygen --force)`,
  );
}

function keyFileError(path: string, problem: string): never {
  throw new SealError(path, `Cannot use seal key file ${path}: ${problem}`);
}

function base64Field(
  path: string,
  fields: Record<string, unknown>,
  name: string,
): Uint8Array<ArrayBuffer> {
  const value = fields[name];
  const bytes = typeof value === "string" ? fromBase64(value) : undefined;
  if (bytes === undefined) keyFileError(path, `its '${name}' is not a base64 string`);
  return bytes;
}

// The file's JSON object, checked to be a regular, small, key file of
// `schema` (and private to its owner when `secret`).
async function readKeyFile(
  path: string,
  schema: string,
  secret: boolean,
): Promise<Record<string, unknown>> {
  if (typeof path !== "string" || path.length === 0) {
    typeError("read seal key", "path", "a non-empty path string", path);
  }
  const { bytes, mode } = await readKeyBytes(path);
  let value: unknown;
  try {
    value = parseJson(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    keyFileError(path, "it is not UTF-8 JSON");
  }
  if (!isPlainObject(value)) keyFileError(path, "it is not a JSON object");
  if (value.schema !== schema) {
    const other = value.schema === KEY_SCHEMA
      ? " (it is a private key file; give the .pub)"
      : value.schema === PUB_SCHEMA
      ? " (it is a public key file; give the .key)"
      : "";
    keyFileError(path, `its 'schema' is not "${schema}"${other}`);
  }
  if (secret && (mode & 0o077) !== 0) {
    keyFileError(
      path,
      `its mode is 0${(mode & 0o777).toString(8)}, so others may read the private key: ` +
        "chmod 600 it (and consider the key leaked)",
    );
  }
  if (value.algorithm !== "Ed25519") keyFileError(path, `its 'algorithm' is not "Ed25519"`);
  return value;
}

// The bytes and mode of a key file, read through one handle opened without
// waiting for a FIFO's writer (a link is followed: keys are often mounted so).
async function readKeyBytes(path: string): Promise<{ bytes: Uint8Array; mode: number }> {
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (error instanceof Deno.errors.NotFound || code === "ENOENT") {
      keyFileError(path, "it does not exist");
    }
    if (error instanceof Deno.errors.NotCapable) {
      keyFileError(
        path,
        `Deno has not granted read access to it: run again with --allow-read=${path}`,
      );
    }
    keyFileError(path, `it cannot be read: ${(error as Error).message}`);
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) keyFileError(path, "it is not a regular file");
    if (info.size > MAX_KEY_FILE_BYTES) {
      keyFileError(
        path,
        `it holds ${info.size} bytes, more than a key file's ${MAX_KEY_FILE_BYTES}`,
      );
    }
    return { bytes: await handle.readFile(), mode: info.mode };
  } finally {
    await handle.close();
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

// Writes the file whole beside its place (created with `mode`, never through
// a link), then links it into place, which fails if the place is taken, or
// renames it over the place when `overwrite`.
async function writeKeyFile(
  path: string,
  fields: Record<string, string>,
  mode: number,
  overwrite: boolean,
): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.tmp`);
  const bytes = new TextEncoder().encode(`${canonicalJsonString(fields)}\n`);
  await Deno.remove(temp).catch(() => {});
  try {
    const file = await Deno.open(temp, { write: true, createNew: true, mode });
    try {
      await Deno.chmod(temp, mode);
      await file.write(bytes).then((n) => {
        if (n !== bytes.length) throw new Error(`short write to ${temp}`);
      });
      await file.syncData();
    } finally {
      file.close();
    }
    if (overwrite) await Deno.rename(temp, path);
    else await Deno.link(temp, path);
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) {
      throw keyExistsError(path);
    }
    if (error instanceof Deno.errors.NotFound) {
      throw new SealError(path, `Cannot write seal key file ${path}: its directory does not exist`);
    }
    throw error;
  } finally {
    await Deno.remove(temp).catch(() => {});
  }
}
