// `ers keygen`, `ers seal` and `ers verify --pub`, run as a user would.
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { denoRun, type RunResult, tempDirs } from "./_tree.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

function ers(permissions: readonly string[], ...args: string[]): Promise<RunResult> {
  return denoRun(permissions, new URL("../scripts/ers.ts", import.meta.url), args, { cwd: ROOT });
}

function assertOneLineError(result: RunResult, code: number, pattern: RegExp): void {
  assert.equal(result.code, code, result.stderr);
  const lines = result.stderr.trimEnd().split("\n");
  assert.ok(code === 2 || lines.length === 1, result.stderr);
  assert.match(lines[0]!, /^ers: /);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(result.stderr, /^\s+at /m);
}

const withTempDir = tempDirs("ers_seal_cli_");

Deno.test("ers keygen writes PREFIX.key (0600) and PREFIX.pub, refuses to overwrite, and --force replaces", async () => {
  await withTempDir(async (dir) => {
    const all = [`--allow-read=${dir}`, `--allow-write=${dir}`];
    const prefix = join(dir, "ci");
    const made = await ers(all, "keygen", "--out", prefix);
    assert.equal(made.code, 0, made.stderr);
    const keyid = JSON.parse(await Deno.readTextFile(`${prefix}.pub`)).keyid;
    assert.equal(
      made.stdout,
      `wrote ${prefix}.key (private key, mode 0600: keep it secret)\n` +
        `wrote ${prefix}.pub (public key: give it to 'ers verify --pub')\n` +
        `keyid ${keyid}\n`,
    );
    assert.equal((await Deno.stat(`${prefix}.key`)).mode! & 0o777, 0o600);
    const before = await Deno.readTextFile(`${prefix}.key`);
    assertOneLineError(
      await ers(all, "keygen", "--out", prefix),
      1,
      /^ers: Cannot generate seal key as .*ci\.key exists: remove it, or replace it on purpose/,
    );
    assert.equal(await Deno.readTextFile(`${prefix}.key`), before);
    const forced = await ers(all, "keygen", "--out", prefix, "--force");
    assert.equal(forced.code, 0, forced.stderr);
    assert.notEqual(await Deno.readTextFile(`${prefix}.key`), before);
    assertOneLineError(await ers(all, "keygen"), 2, /^ers: missing --out PREFIX$/);
    const denied = await ers([], "keygen", "--out", prefix);
    assert.equal(denied.code, 1, denied.stderr);
    const [first, runLine] = denied.stderr.trimEnd().split("\n");
    assert.equal(
      first,
      `ers: Deno has not granted read and write access to the key directory ${dir}; grant them up front:`,
    );
    assert.match(runLine!, new RegExp(`deno run --allow-read=${dir} --allow-write=${dir} `));
  });
});

Deno.test("ers seal and ers report name every refused access in one message with the whole deno run line", async () => {
  await withTempDir(async (dir) => {
    const out = join(dir, "out");
    const key = join(dir, "ci.key");
    const sealed = await ers([], "seal", out, "--run", "S", "--key", key);
    assert.equal(sealed.code, 1, sealed.stderr);
    const lines = sealed.stderr.trimEnd().split("\n");
    assert.equal(
      lines[0],
      `ers: Deno has not granted read access to the seal key file ${key}, ` +
        `nor read and write access to the artifacts directory ${out}; grant them up front:`,
    );
    assert.match(
      lines[1]!,
      new RegExp(
        `^  deno run --allow-read=${key},${out} --allow-write=${out} \\S+ seal ${out} --run S --key ${key}$`,
      ),
    );
    assert.match(lines[2]!, /ERS_DENO_FLAGS=.* deno task ers seal /);
    const html = join(dir, "r.html");
    const report = await ers([], "report", out, "--run", "S", "--out", html);
    assert.equal(report.code, 1, report.stderr);
    assert.equal(
      report.stderr.split("\n")[0],
      `ers: Deno has not granted read access to the artifacts directory ${out}, ` +
        `nor write access to the output directory ${dir}; grant them up front:`,
    );
  });
});

Deno.test("ers seal and ers verify --pub: 0 when sealed and intact, 1 naming the run on tampering or the wrong key", async () => {
  await withTempDir(async (dir) => {
    const out = join(dir, "out");
    const all = [`--allow-read=${dir}`, `--allow-write=${dir}`];
    const read = [`--allow-read=${dir}`];
    assert.equal((await ers(all, "run", "--out", out, "--run", "S", "--ticks", "2")).code, 0);
    assert.equal((await ers(all, "keygen", "--out", join(dir, "ci"))).code, 0);
    assert.equal((await ers(all, "keygen", "--out", join(dir, "other"))).code, 0);
    const key = join(dir, "ci.key");
    const pub = join(dir, "ci.pub");
    const keyid = JSON.parse(await Deno.readTextFile(pub)).keyid;

    const sealed = await ers(all, "seal", out, "--run", "S", "--key", key);
    assert.equal(sealed.code, 0, sealed.stderr);
    const lines = sealed.stdout.trimEnd().split("\n");
    assert.equal(
      lines[0],
      "sealed run S: seal 0 in manifests/S.seal.json covers 7 records, ticks 0 to 1",
    );
    assert.match(lines[1]!, /^sha256 [0-9a-f]{64}$/);
    assert.equal(lines[2], `keyid  ${keyid}`);
    const again = await ers(all, "seal", out, "--run", "S", "--key", key, "--json");
    assert.equal(again.code, 0, again.stderr);
    assert.equal(JSON.parse(again.stdout).appended, false);

    const verified = await ers(read, "verify", out, "--pub", pub);
    assert.equal(verified.code, 0, verified.stdout);
    assert.equal(verified.stdout, `OK: 1 run, 7 records, 1 seal, 0 errors, 0 warnings in ${out}\n`);
    const plain = await ers(read, "verify", out);
    assert.equal(plain.code, 0);
    assert.match(
      plain.stdout,
      /^warning manifests\/S\.seal\.json: run S: signatures of 1 seal not checked/m,
    );

    const wrong = await ers(read, "verify", out, "--pub", join(dir, "other.pub"));
    assert.equal(wrong.code, 1);
    assert.match(
      wrong.stdout,
      new RegExp(
        `^error {3}manifests/S\\.seal\\.json: run S: seal 0 is not signed by key [0-9a-f]{64} \\(its signatures name key ${keyid}\\)$`,
        "m",
      ),
    );

    const both = await ers(read, "verify", out, "--pub", `${join(dir, "other.pub")},${pub}`);
    assert.equal(both.code, 0, both.stdout);

    const trendpack = join(out, "viz/S/000001.trendpack.json");
    await Deno.writeTextFile(trendpack, " ", { append: true });
    const tampered = await ers(read, "verify", out, "--run", "S", "--pub", pub, "--json");
    assert.equal(tampered.code, 1);
    const report = JSON.parse(tampered.stdout);
    assert.ok(
      report.errors.some((e: { path: string; message: string }) =>
        e.path === "viz/S/000001.trendpack.json" && /^run S: seal 0 names sha256/.test(e.message)
      ),
      tampered.stdout,
    );
    assertOneLineError(
      await ers(all, "seal", out, "--run", "S", "--key", key),
      1,
      /^ers: Cannot seal run S as viz\/S\/000001\.trendpack\.json: length is/,
    );

    await Deno.remove(join(out, "manifests/S.manifest.json"));
    const lost = await ers(read, "verify", out, "--run", "S", "--pub", pub);
    assert.equal(lost.code, 1);
    assert.match(
      lost.stdout,
      /^error {3}manifests\/S\.manifest\.json: run S is sealed \(seal 0 names 7 records\) but its manifest is missing$/m,
    );
  });
});

Deno.test("ers seal and verify --pub report bad key files in one line naming the path, and bad usage with exit 2", async () => {
  await withTempDir(async (dir) => {
    const out = join(dir, "out");
    const all = [`--allow-read=${dir}`, `--allow-write=${dir}`];
    assert.equal((await ers(all, "run", "--out", out, "--run", "S", "--ticks", "1")).code, 0);
    assert.equal((await ers(all, "keygen", "--out", join(dir, "ci"))).code, 0);
    const missing = join(dir, "nope.key");
    assertOneLineError(
      await ers(all, "seal", out, "--run", "S", "--key", missing),
      1,
      new RegExp(`^ers: Cannot use seal key file ${missing}: it does not exist$`),
    );
    assertOneLineError(
      await ers(all, "seal", out, "--run", "S", "--key", join(dir, "ci.pub")),
      1,
      /ci\.pub: its 'schema' is not "ErsSealKey\.v0" \(it is a public key file; give the \.key\)$/,
    );
    assertOneLineError(
      await ers(all, "verify", out, "--pub", join(dir, "ci.key")),
      1,
      /ci\.key: its 'schema' is not "ErsSealPublicKey\.v0"/,
    );
    assertOneLineError(
      await ers(all, "seal", out, "--run", "NOPE", "--key", join(dir, "ci.key")),
      1,
      /^ers: No manifest for run NOPE in /,
    );
    assertOneLineError(await ers(all, "seal", out, "--key", "k"), 2, /^ers: missing --run ID$/);
    assertOneLineError(await ers(all, "seal", out, "--run", "S"), 2, /^ers: missing --key FILE$/);
    assertOneLineError(await ers(all, "seal", "--run", "S", "--key", "k"), 2, /^ers: missing DIR$/);
    assertOneLineError(await ers(all, "verify", out, "--pub"), 2, /--pub needs a value FILE/);
    const help = await ers([], "--help");
    assert.match(help.stdout, /^ {2}keygen +Generate an Ed25519 key pair for sealing runs$/m);
    assert.match(
      help.stdout,
      /^ {2}seal +Sign a run's manifest and artifacts into its seal chain$/m,
    );
  });
});
