import assert from "node:assert/strict";
import { join } from "node:path";
import {
  abraxasTick,
  ArtifactWriter,
  generateSealKey,
  readSealChain,
  readSealKey,
  readSealPublicKey,
  RUN_SEAL_PREDICATE_TYPE,
  SealError,
  type SealPublicKey,
  sealRun,
  type SealSigningKey,
  type TaskFn,
  verifyArtifacts,
  verifySeal,
} from "../mod.ts";
import { sha256Hex } from "../ers/_sha256.ts";

const ok: TaskFn = () => ({ ok: true });
const RUN = "RUN-S";
const encoder = new TextEncoder();

interface Sealed {
  dir: string;
  key: SealSigningKey;
  pub: SealPublicKey;
  tick(tick: number): Promise<void>;
  path(relPath: string): string;
}

// A run of `ticks` ticks in a fresh directory, and a key pair beside it (not inside).
async function withRun(ticks: number, fn: (run: Sealed) => Promise<void>): Promise<void> {
  const base = await Deno.makeTempDir({ prefix: "ers-seal-" });
  const dir = join(base, "out");
  try {
    const files = await generateSealKey(join(base, "ci"));
    const run: Sealed = {
      dir,
      key: await readSealKey(files.keyPath),
      pub: await readSealPublicKey(files.pubPath),
      tick: async (tick) => {
        await abraxasTick({
          tick,
          runId: RUN,
          mode: "test",
          artifactsDir: dir,
          runSignal: ok,
          runCompress: ok,
          runOverlay: ok,
        });
      },
      path: (relPath) => join(dir, relPath),
    };
    for (let tick = 0; tick < ticks; tick++) await run.tick(tick);
    await fn(run);
  } finally {
    await Deno.remove(base, { recursive: true });
  }
}

async function otherKey(): Promise<SealSigningKey> {
  const base = await Deno.makeTempDir({ prefix: "ers-seal-key-" });
  try {
    return await readSealKey((await generateSealKey(join(base, "other"))).keyPath);
  } finally {
    await Deno.remove(base, { recursive: true });
  }
}

const SEAL = `manifests/${RUN}.seal.json`;
const MANIFEST = `manifests/${RUN}.manifest.json`;

async function readChainFile(run: Sealed) {
  return JSON.parse(await Deno.readTextFile(run.path(SEAL)));
}

// Writes a chain file back in canonical form (sorted keys, no spaces), as an
// attacker able to edit the file would.
async function writeChainFile(run: Sealed, chain: unknown): Promise<void> {
  const sort = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(sort)
      : typeof value === "object" && value !== null
      ? Object.fromEntries(
        Object.keys(value).sort().map((k) => [k, sort((value as Record<string, unknown>)[k])]),
      )
      : value;
  await Deno.writeTextFile(run.path(SEAL), JSON.stringify(sort(chain)));
}

function messages(issues: { path: string; message: string }[]): string[] {
  return issues.map((issue) => `${issue.path}: ${issue.message}`);
}

Deno.test("sealRun() signs a DSSE envelope of an in-toto Statement naming the manifest and every artifact", async () => {
  await withRun(2, async (run) => {
    const seal = await sealRun(run.dir, RUN, run.key);
    assert.deepEqual(seal, {
      path: SEAL,
      index: 0,
      sha256: seal.sha256,
      appended: true,
      keyids: [run.key.keyid],
      records: 4,
      ticks: { first: 0, last: 1 },
    });
    const chain = await readChainFile(run);
    assert.deepEqual(Object.keys(chain), ["envelopes", "run_id", "schema"]);
    assert.equal(chain.schema, "SealChain.v0");
    const [envelope] = chain.envelopes;
    assert.deepEqual(Object.keys(envelope), ["payload", "payloadType", "signatures"]);
    assert.equal(envelope.payloadType, "application/vnd.in-toto+json");
    assert.deepEqual(envelope.signatures.map((s: { keyid: string }) => s.keyid), [run.key.keyid]);
    // The signature is over DSSE's PAE, built here by hand from the spec.
    const payload = Uint8Array.fromBase64(envelope.payload);
    const paeBytes = new Uint8Array([
      ...encoder.encode(`DSSEv1 28 application/vnd.in-toto+json ${payload.length} `),
      ...payload,
    ]);
    const signature = Uint8Array.fromBase64(envelope.signatures[0].sig);
    assert.ok(await crypto.subtle.verify("Ed25519", run.pub.publicKey, signature, paeBytes));
    const statement = JSON.parse(new TextDecoder().decode(payload));
    assert.equal(statement._type, "https://in-toto.io/Statement/v1");
    assert.equal(statement.predicateType, RUN_SEAL_PREDICATE_TYPE);
    assert.deepEqual(statement.predicate, {
      previous_seal_sha256: null,
      record_count: 4,
      run_header_sha256: null,
      run_id: RUN,
      seal_index: 0,
      ticks: { first: 0, last: 1 },
    });
    const names = statement.subject.map((s: { name: string }) => s.name);
    assert.deepEqual(names, [
      MANIFEST,
      `run_index/${RUN}/000000.runindex.json`,
      `viz/${RUN}/000000.trendpack.json`,
      `run_index/${RUN}/000001.runindex.json`,
      `viz/${RUN}/000001.trendpack.json`,
    ]);
    for (const subject of statement.subject) {
      const bytes = await Deno.readFile(run.path(subject.name));
      assert.deepEqual(subject.digest, { sha256: await sha256Hex(bytes) });
    }
    assert.deepEqual(await verifySeal(run.dir, RUN, { publicKey: run.pub }), {
      ok: true,
      run_id: RUN,
      seals: 1,
      signatures_checked: true,
      errors: [],
      warnings: [],
    });
    const report = await verifyArtifacts(run.dir, { publicKey: run.pub });
    assert.deepEqual(report, {
      ok: true,
      runs: [RUN],
      records: 4,
      seals: 1,
      errors: [],
      warnings: [],
    });
  });
});

Deno.test("sealRun() again without new records writes nothing; after more ticks it appends to the chain", async () => {
  await withRun(1, async (run) => {
    const first = await sealRun(run.dir, RUN, run.key);
    const bytes = await Deno.readFile(run.path(SEAL));
    assert.deepEqual(await sealRun(run.dir, RUN, run.key), { ...first, appended: false });
    assert.deepEqual(await Deno.readFile(run.path(SEAL)), bytes);
    await run.tick(1);
    const second = await sealRun(run.dir, RUN, run.key);
    assert.equal(second.index, 1);
    assert.equal(second.appended, true);
  });
});

Deno.test("a chain of 3 seals: each names the digest of the one before, and history stays byte for byte", async () => {
  await withRun(0, async (run) => {
    const snapshots: string[] = [];
    const seals = [];
    for (let tick = 0; tick < 3; tick++) {
      await run.tick(tick);
      seals.push(await sealRun(run.dir, RUN, run.key));
      snapshots.push(await Deno.readTextFile(run.path(SEAL)));
    }
    assert.deepEqual(seals.map((s) => [s.index, s.records, s.ticks.last]), [
      [0, 2, 0],
      [1, 4, 1],
      [2, 6, 2],
    ]);
    const chain = await readSealChain(run.dir, RUN);
    assert.equal(chain.length, 3);
    const raw = (await readChainFile(run)).envelopes;
    for (let i = 0; i < 3; i++) {
      const canonical = JSON.stringify(raw[i]); // keys are already sorted
      assert.equal(chain[i]!.sha256, await sha256Hex(encoder.encode(canonical)));
      assert.equal(chain[i]!.sha256, seals[i]!.sha256);
      assert.equal(
        chain[i]!.statement.predicate.previous_seal_sha256,
        i === 0 ? null : chain[i - 1]!.sha256,
      );
      // Every later file still holds this envelope, unchanged.
      for (const later of snapshots.slice(i)) assert.ok(later.includes(canonical));
    }
    const report = await verifyArtifacts(run.dir, { publicKey: run.pub });
    assert.equal(report.ok, true, messages(report.errors).join("\n"));
    assert.equal(report.seals, 3);
  });
});

Deno.test("verify names the run and the file when a sealed artifact is tampered with", async () => {
  await withRun(2, async (run) => {
    await sealRun(run.dir, RUN, run.key);
    const path = `viz/${RUN}/000001.trendpack.json`;
    const text = await Deno.readTextFile(run.path(path));
    await Deno.writeTextFile(run.path(path), text.replace('"ok_events":3', '"ok_events":4'));
    const report = await verifySeal(run.dir, RUN, { publicKey: run.pub });
    assert.equal(report.ok, false);
    assert.equal(report.errors.length, 1);
    assert.equal(report.errors[0]!.path, path);
    assert.match(
      report.errors[0]!.message,
      /^run RUN-S: seal 0 names sha256 [0-9a-f]{64}, the file hashes to [0-9a-f]{64}$/,
    );
    const all = await verifyArtifacts(run.dir, { publicKey: run.pub });
    assert.ok(messages(all.errors).some((m) => m.startsWith(`${path}: run RUN-S: seal 0`)));
  });
});

Deno.test("a seal catches an artifact rewritten together with its manifest record, which plain verify cannot", async () => {
  await withRun(1, async (run) => {
    await sealRun(run.dir, RUN, run.key);
    const path = `run_index/${RUN}/000000.runindex.json`;
    const forged = (await Deno.readTextFile(run.path(path))).replace(/}$/, ',"x":1}');
    const forgedBytes = encoder.encode(forged);
    await Deno.writeTextFile(run.path(path), forged);
    const manifest = JSON.parse(await Deno.readTextFile(run.path(MANIFEST)));
    const record = manifest.records.find((r: { path: string }) => r.path === path);
    record.sha256 = await sha256Hex(forgedBytes);
    record.bytes = forgedBytes.length;
    await Deno.writeTextFile(run.path(MANIFEST), JSON.stringify(manifest));
    const unsealed = await verifyArtifacts(run.dir); // the hashes agree with the manifest...
    assert.deepEqual(unsealed.errors.filter((e) => !e.message.startsWith("run ")), []);
    const report = await verifyArtifacts(run.dir, { publicKey: run.pub });
    assert.equal(report.ok, false); // ...but not with the seal
    assert.deepEqual(messages(report.errors), [
      `${path}: run RUN-S: seal 0 names sha256 ${
        (await readSealChain(run.dir, RUN))[0]!.statement.subject[1]!.digest.sha256
      }, the manifest records ${record.sha256}`,
    ]);
    await assert.rejects(sealRun(run.dir, RUN, run.key), SealError);
  });
});

Deno.test("a rewritten record's metadata breaks the sealed manifest digest", async () => {
  await withRun(1, async (run) => {
    await sealRun(run.dir, RUN, run.key);
    const manifest = JSON.parse(await Deno.readTextFile(run.path(MANIFEST)));
    manifest.records[0].extra.mode = "forged";
    await Deno.writeTextFile(run.path(MANIFEST), JSON.stringify(manifest));
    const report = await verifySeal(run.dir, RUN, { publicKey: run.pub });
    assert.deepEqual(report.errors.map((e) => e.path), [MANIFEST]);
    assert.match(report.errors[0]!.message, /a record was rewritten$/);
  });
});

Deno.test("verify fails naming the run when a sealed run's manifest is deleted", async () => {
  await withRun(2, async (run) => {
    await sealRun(run.dir, RUN, run.key);
    await Deno.remove(run.path(MANIFEST));
    const expected =
      `${MANIFEST}: run RUN-S is sealed (seal 0 names 4 records) but its manifest is missing`;
    for (const options of [{}, { runId: RUN }, { runId: RUN, publicKey: run.pub }]) {
      const report = await verifyArtifacts(run.dir, options);
      assert.equal(report.ok, false);
      assert.deepEqual(report.runs, [RUN]);
      assert.deepEqual(messages(report.errors), [expected]);
    }
    assert.deepEqual(messages((await verifySeal(run.dir, RUN)).errors), [expected]);
    await assert.rejects(sealRun(run.dir, RUN, run.key), Deno.errors.NotFound);
  });
});

Deno.test("verify fails naming the run when a sealed run's manifest is emptied", async () => {
  await withRun(2, async (run) => {
    await sealRun(run.dir, RUN, run.key);
    await Deno.writeTextFile(
      run.path(MANIFEST),
      `{"records":[],"run_id":"${RUN}","schema":"Manifest.v0"}`,
    );
    const report = await verifyArtifacts(run.dir, { publicKey: run.pub });
    assert.equal(report.ok, false);
    assert.deepEqual(messages(report.errors), [
      `${MANIFEST}: run RUN-S: seal 0 names 4 artifacts (of 4) that the manifest no longer records: it was emptied, cut or replaced; such as run_index/RUN-S/000000.runindex.json`,
    ]);
  });
});

Deno.test("verify with the wrong key names both keys; without a key it warns that signatures went unchecked", async () => {
  await withRun(1, async (run) => {
    await sealRun(run.dir, RUN, run.key);
    const other = await otherKey();
    const report = await verifyArtifacts(run.dir, { publicKey: other });
    assert.deepEqual(messages(report.errors), [
      `${SEAL}: run RUN-S: seal 0 is not signed by key ${other.keyid} (its signatures name key ${run.key.keyid})`,
    ]);
    const unsigned = await verifyArtifacts(run.dir);
    assert.equal(unsigned.ok, true);
    assert.deepEqual(messages(unsigned.warnings), [
      `${SEAL}: run RUN-S: signatures of 1 seal not checked (no public key given)`,
    ]);
  });
});

Deno.test("after a key change a chain verifies with both keys, each seal signed by one of them", async () => {
  await withRun(1, async (run) => {
    await sealRun(run.dir, RUN, run.key);
    const next = await otherKey();
    await run.tick(1);
    const second = await sealRun(run.dir, RUN, next);
    assert.deepEqual(second.keyids, [next.keyid]);
    const both = await verifyArtifacts(run.dir, { publicKey: [run.pub, next] });
    assert.equal(both.ok, true, messages(both.errors).join("\n"));
    assert.equal((await verifySeal(run.dir, RUN, { publicKey: [next, run.pub] })).ok, true);
    const onlyNew = await verifyArtifacts(run.dir, { publicKey: next });
    assert.deepEqual(messages(onlyNew.errors), [
      `${SEAL}: run RUN-S: seal 0 is not signed by key ${next.keyid} (its signatures name key ${run.key.keyid})`,
    ]);
    const neither = await verifySeal(run.dir, RUN, { publicKey: [await otherKey(), next] });
    assert.match(neither.errors[0]!.message, /^run RUN-S: seal 0 is not signed by any of keys /);
    await assert.rejects(verifySeal(run.dir, RUN, { publicKey: [] }), RangeError);
  });
});

Deno.test("a tampered signature or payload fails verification with the right key", async () => {
  await withRun(1, async (run) => {
    await sealRun(run.dir, RUN, run.key);
    const chain = await readChainFile(run);
    const sig = Uint8Array.fromBase64(chain.envelopes[0].signatures[0].sig);
    sig[0]! ^= 1;
    chain.envelopes[0].signatures[0].sig = sig.toBase64();
    await writeChainFile(run, chain);
    const report = await verifySeal(run.dir, RUN, { publicKey: run.pub });
    assert.deepEqual(messages(report.errors), [
      `${SEAL}: run RUN-S: seal 0 is not signed by key ${run.key.keyid} (its signatures name key ${run.key.keyid})`,
    ]);
    // Sealing refuses to extend a chain whose own-key signature does not verify.
    await run.tick(1);
    await assert.rejects(sealRun(run.dir, RUN, run.key), /signature does not verify/);
  });
});

Deno.test("a truncated chain is an error: a file cut short, or a seal removed from it", async () => {
  await withRun(0, async (run) => {
    for (let tick = 0; tick < 3; tick++) {
      await run.tick(tick);
      await sealRun(run.dir, RUN, run.key);
    }
    const whole = await Deno.readTextFile(run.path(SEAL));
    await Deno.writeTextFile(run.path(SEAL), whole.slice(0, whole.length - 100));
    assert.deepEqual(messages((await verifyArtifacts(run.dir)).errors), [
      `${SEAL}: run RUN-S: invalid seal file: it is not valid UTF-8 JSON (truncated or edited)`,
    ]);
    for (const drop of [0, 1]) {
      const chain = JSON.parse(whole);
      chain.envelopes.splice(drop, 1);
      await writeChainFile(run, chain);
      const report = await verifyArtifacts(run.dir, { publicKey: run.pub });
      assert.equal(report.ok, false);
      assert.deepEqual(report.errors.map((e) => e.path), [SEAL]);
      assert.match(
        report.errors[0]!.message,
        drop === 0
          ? /envelopes\[0\] is seal 1: the chain was cut or reordered$/
          : /envelopes\[1\] is seal 2: the chain was cut or reordered$/,
      );
      await assert.rejects(sealRun(run.dir, RUN, run.key), SealError);
    }
  });
});

Deno.test("a seal edited to skip a link of the chain is caught by its digest", async () => {
  await withRun(0, async (run) => {
    for (let tick = 0; tick < 2; tick++) {
      await run.tick(tick);
      await sealRun(run.dir, RUN, run.key);
    }
    const chain = await readChainFile(run);
    chain.envelopes[0].signatures[0].keyid = "forged"; // unauthenticated, but chained
    await writeChainFile(run, chain);
    const report = await verifySeal(run.dir, RUN);
    assert.match(
      report.errors[0]!.message,
      /envelopes\[1\] chains to [0-9a-f]{64}, but the seal before it hashes to [0-9a-f]{64}$/,
    );
  });
});

Deno.test("records written after the newest seal are a warning, and sealing again covers them", async () => {
  await withRun(1, async (run) => {
    await sealRun(run.dir, RUN, run.key);
    await run.tick(1);
    const report = await verifyArtifacts(run.dir, { publicKey: run.pub });
    assert.equal(report.ok, true);
    assert.deepEqual(messages(report.warnings), [
      `${MANIFEST}: run RUN-S: 2 records written after seal 0 are not sealed yet`,
    ]);
    await sealRun(run.dir, RUN, run.key);
    assert.deepEqual((await verifyArtifacts(run.dir, { publicKey: run.pub })).warnings, []);
  });
});

Deno.test("verify with a public key requires every run checked to be sealed", async () => {
  await withRun(1, async (run) => {
    const report = await verifyArtifacts(run.dir, { publicKey: run.pub });
    assert.deepEqual(messages(report.errors), [
      `${SEAL}: run RUN-S has no seal, and a public key was given to check one`,
    ]);
    assert.equal((await verifyArtifacts(run.dir)).ok, true);
    await assert.rejects(
      verifyArtifacts(run.dir, { publicKey: {} as SealPublicKey }),
      /'publicKey' must be a public key from readSealPublicKey\(\)/,
    );
  });
});

Deno.test("sealRun() refuses a run whose artifacts differ from their records, and writes nothing", async () => {
  await withRun(1, async (run) => {
    const path = `viz/${RUN}/000000.trendpack.json`;
    await Deno.writeTextFile(run.path(path), "{}");
    await assert.rejects(sealRun(run.dir, RUN, run.key), (error: unknown) => {
      assert.ok(error instanceof SealError);
      assert.equal(error.path, path);
      assert.match(error.message, /^Cannot seal run RUN-S as viz\/RUN-S\/000000\.trendpack\.json:/);
      return true;
    });
    await assert.rejects(Deno.lstat(run.path(SEAL)), Deno.errors.NotFound);
    await assert.rejects(sealRun(run.dir, "NONE", run.key), Deno.errors.NotFound);
    await assert.rejects(sealRun(run.dir, RUN, run.pub as SealSigningKey), TypeError);
    await assert.rejects(sealRun(run.dir, "..", run.key), RangeError);
    await assert.rejects(sealRun(run.dir, RUN, run.key, { durable: "no" as never }), TypeError);
  });
});

Deno.test("sealRun() refuses a seal file that is a symbolic link, and verify reports it", async () => {
  await withRun(1, async (run) => {
    const outside = `${run.dir}.outside.json`;
    await Deno.writeTextFile(outside, "{}");
    await Deno.symlink(outside, run.path(SEAL));
    await assert.rejects(sealRun(run.dir, RUN, run.key), /is invalid: it is a symbolic link/);
    assert.equal(await Deno.readTextFile(outside), "{}");
    assert.match(
      (await verifyArtifacts(run.dir)).errors[0]!.message,
      /invalid seal file: it is a symbolic link/,
    );
  });
});

Deno.test("a FIFO or a hard-linked file in the seal's place is refused without blocking", async () => {
  await withRun(1, async (run) => {
    await new Deno.Command("mkfifo", { args: [run.path(SEAL)] }).output();
    await assert.rejects(
      sealRun(run.dir, RUN, run.key),
      /is invalid: it is not a regular file \(a FIFO\)/,
    );
    assert.match(
      (await verifySeal(run.dir, RUN)).errors[0]!.message,
      /invalid seal file: it is not a regular file \(a FIFO\)/,
    );
    await Deno.remove(run.path(SEAL));
    await sealRun(run.dir, RUN, run.key);
    await Deno.link(run.path(SEAL), `${run.dir}.linked.json`);
    assert.match(
      (await verifySeal(run.dir, RUN)).errors[0]!.message,
      /invalid seal file: it has 2 hard links/,
    );
  });
});

Deno.test("seals and tick writes of one run serialize on the run lock", async () => {
  await withRun(1, async (run) => {
    const work: Promise<unknown>[] = [];
    for (let tick = 1; tick < 6; tick++) {
      work.push(run.tick(tick), sealRun(run.dir, RUN, run.key));
    }
    await Promise.all(work);
    await sealRun(run.dir, RUN, run.key);
    const report = await verifyArtifacts(run.dir, { publicKey: run.pub });
    assert.equal(report.ok, true, messages(report.errors).join("\n"));
    assert.deepEqual(report.warnings, []);
    const chain = await readSealChain(run.dir, RUN);
    assert.equal(chain.at(-1)!.statement.predicate.record_count, 12);
  });
});

Deno.test("a seal names the RunHeader's digest, and verify checks it", async () => {
  await withRun(1, async (run) => {
    const header = run.path(`runs/${RUN}.runheader.json`);
    await Deno.mkdir(run.path("runs"));
    await Deno.writeTextFile(header, '{"run_id":"RUN-S"}');
    await sealRun(run.dir, RUN, run.key);
    const [seal] = await readSealChain(run.dir, RUN);
    assert.equal(
      seal!.statement.predicate.run_header_sha256,
      await sha256Hex(encoder.encode('{"run_id":"RUN-S"}')),
    );
    await Deno.writeTextFile(header, '{"run_id":"forged"}');
    const report = await verifySeal(run.dir, RUN, { publicKey: run.pub });
    assert.deepEqual(report.errors.map((e) => e.path), [`runs/${RUN}.runheader.json`]);
    assert.match(report.errors[0]!.message, /^run RUN-S: seal 0 names RunHeader sha256/);
  });
});

Deno.test("an ArtifactWriter cannot write into the seal file's place", async () => {
  await withRun(1, async (run) => {
    await sealRun(run.dir, RUN, run.key);
    const writer = new ArtifactWriter(run.dir);
    await assert.rejects(
      writer.writeJson({ runId: RUN, tick: 9, kind: "x", schema: "X.v0", obj: 1, relPath: SEAL }),
      RangeError,
    );
  });
});

// --- keys ---------------------------------------------------------------

Deno.test("generateSealKey() writes a 0600 private key and a public key, and never overwrites by default", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ers-seal-key-" });
  try {
    const prefix = join(dir, "ci");
    const files = await generateSealKey(prefix);
    assert.equal((await Deno.stat(files.keyPath)).mode! & 0o777, 0o600);
    const pub = JSON.parse(await Deno.readTextFile(files.pubPath));
    assert.deepEqual(Object.keys(pub), ["algorithm", "keyid", "schema", "spki"]);
    assert.equal(pub.keyid, await sha256Hex(Uint8Array.fromBase64(pub.spki)));
    const key = JSON.parse(await Deno.readTextFile(files.keyPath));
    assert.deepEqual(Object.keys(key), ["algorithm", "keyid", "pkcs8", "schema", "spki"]);
    const before = await Deno.readTextFile(files.keyPath);
    await assert.rejects(generateSealKey(prefix), (error: unknown) => {
      assert.ok(error instanceof SealError);
      assert.equal(error.path, files.keyPath);
      return true;
    });
    assert.equal(await Deno.readTextFile(files.keyPath), before);
    await Deno.remove(files.keyPath); // only the .pub is left: still refused, and no .key made
    await assert.rejects(generateSealKey(prefix), /ci\.pub exists/);
    await assert.rejects(Deno.lstat(files.keyPath), Deno.errors.NotFound);
    const replaced = await generateSealKey(prefix, { overwrite: true });
    assert.notEqual(replaced.keyid, files.keyid);
    assert.equal((await readSealPublicKey(replaced.pubPath)).keyid, replaced.keyid);
    assert.deepEqual(
      [...Deno.readDirSync(dir)].map((e) => e.name).sort(),
      ["ci.key", "ci.pub"],
    );
    await assert.rejects(
      generateSealKey(join(dir, "missing", "ci")),
      /its directory does not exist/,
    );
    await assert.rejects(generateSealKey(""), TypeError);
    await assert.rejects(generateSealKey(prefix, { overwrite: "yes" as never }), TypeError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readSealKey() and readSealPublicKey() name the path and the problem of a bad key file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ers-seal-key-" });
  try {
    const a = await generateSealKey(join(dir, "a"));
    const b = await generateSealKey(join(dir, "b"));
    const keyA = JSON.parse(await Deno.readTextFile(a.keyPath));
    const keyB = JSON.parse(await Deno.readTextFile(b.keyPath));
    const cases: [string, string | undefined, RegExp][] = [
      ["missing.key", undefined, /it does not exist$/],
      ["text.key", "not json", /it is not UTF-8 JSON$/],
      ["array.key", "[]", /it is not a JSON object$/],
      [
        "schema.key",
        JSON.stringify({ ...keyA, schema: "X" }),
        /its 'schema' is not "ErsSealKey\.v0"$/,
      ],
      [
        "algo.key",
        JSON.stringify({ ...keyA, algorithm: "RSA" }),
        /its 'algorithm' is not "Ed25519"$/,
      ],
      ["b64.key", JSON.stringify({ ...keyA, pkcs8: "***" }), /its 'pkcs8' is not a base64 string$/],
      [
        "der.key",
        JSON.stringify({ ...keyA, pkcs8: "AAAA" }),
        /its 'pkcs8' is not an Ed25519 private key$/,
      ],
      ["keyid.key", JSON.stringify({ ...keyA, keyid: b.keyid }), /its 'keyid' is not the SHA-256/],
      [
        "pair.key",
        JSON.stringify({ ...keyA, spki: keyB.spki, keyid: keyB.keyid }),
        /its private key does not pair with its 'spki' public key$/,
      ],
      ["big.key", "x".repeat(5000), /it holds 5000 bytes, more than a key file's 4096$/],
    ];
    for (const [name, text, pattern] of cases) {
      const path = join(dir, name);
      if (text !== undefined) await Deno.writeTextFile(path, text, { mode: 0o600 });
      await assert.rejects(readSealKey(path), (error: unknown) => {
        assert.ok(error instanceof SealError, name);
        assert.equal(error.path, path);
        assert.ok(error.message.startsWith(`Cannot use seal key file ${path}: `), error.message);
        assert.match(error.message, pattern);
        return true;
      });
    }
    const linked = join(dir, "linked.key"); // keys are often mounted through a link
    await Deno.symlink(a.keyPath, linked);
    assert.equal((await readSealKey(linked)).keyid, a.keyid);
    const fifo = join(dir, "fifo.key");
    await new Deno.Command("mkfifo", { args: [fifo] }).output();
    await assert.rejects(readSealKey(fifo), /fifo\.key: it is not a regular file$/);
    await Deno.mkdir(join(dir, "dir.key"));
    await assert.rejects(readSealKey(join(dir, "dir.key")), /dir\.key: it is not a regular file$/);
    await Deno.chmod(a.keyPath, 0o644);
    await assert.rejects(readSealKey(a.keyPath), /a\.key: its mode is 0644, so others may read/);
    await assert.rejects(readSealPublicKey(a.keyPath), /it is a private key file; give the \.pub/);
    await assert.rejects(readSealKey(a.pubPath), /it is a public key file; give the \.key/);
    const pubB = JSON.parse(await Deno.readTextFile(b.pubPath));
    const forged = join(dir, "forged.pub");
    await Deno.writeTextFile(forged, JSON.stringify({ ...pubB, keyid: a.keyid }));
    await assert.rejects(readSealPublicKey(forged), /forged\.pub: its 'keyid' is not the SHA-256/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
