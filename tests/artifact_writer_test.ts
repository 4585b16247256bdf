import assert from "node:assert/strict";
import {
  ArtifactWriter,
  canonicalJsonBytes,
  DriftError,
  ManifestError,
  verifyArtifacts,
  type WriteJsonOptions,
} from "../mod.ts";
import { ManifestModel, ManifestTail } from "../runtime/_manifest.ts";
import { snapshot, tempDirs } from "./_tree.ts";

const inTempDir = tempDirs("ers-writer-");

const base: WriteJsonOptions = {
  runId: "RUN-W",
  tick: 0,
  kind: "note",
  schema: "Note.v0",
  obj: { z: 1, a: [1e-5, "é"] },
  relPath: "notes/RUN-W/000000.json",
};

async function manifest(
  dir: string,
): Promise<{ records: Record<string, unknown>[]; run_id: string; schema: string }> {
  return JSON.parse(await Deno.readTextFile(`${dir}/manifests/RUN-W.manifest.json`));
}

Deno.test("ArtifactWriter.writeJson() writes canonical bytes with no trailing newline and records them", async () => {
  await inTempDir(async (dir) => {
    const writer = new ArtifactWriter(dir);
    const record = await writer.writeJson({ ...base, extra: { b: 2, a: 1 } });
    const bytes = await Deno.readFile(writer.resolve(record.path));
    assert.deepEqual(bytes, canonicalJsonBytes(base.obj));
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
    assert.deepEqual(record, {
      schema: "Note.v0",
      path: "notes/RUN-W/000000.json",
      sha256: Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join(""),
      bytes: bytes.length,
      run_id: "RUN-W",
      tick: 0,
      kind: "note",
    });
    assert.deepEqual((await manifest(dir)).records, [{
      tick: 0,
      kind: "note",
      schema: "Note.v0",
      path: "notes/RUN-W/000000.json",
      sha256: record.sha256,
      bytes: record.bytes,
      extra: { a: 1, b: 2 },
    }]);
  });
});

Deno.test("ArtifactWriter.writeJson() keeps the manifest sorted by (tick, kind, schema, path), as a full rewrite would", async () => {
  await inTempDir(async (dir) => {
    const writer = new ArtifactWriter(dir, { durable: false });
    const arrivals: [number, string, string][] = [
      [5, "b", "p/RUN-W/5b"],
      [1, "z", "p/RUN-W/1z"],
      [1, "a", "p/RUN-W/1a"],
      [10, "a", "p/RUN-W/10a"],
      [5, "a", "p/RUN-W/5a2"],
      [5, "a", "p/RUN-W/5a1"],
      [0, "ü", "p/RUN-W/0u"],
    ];
    for (const [tick, kind, relPath] of arrivals) {
      await writer.writeJson({ ...base, tick, kind, relPath, obj: { tick, kind } });
    }
    const text = await Deno.readTextFile(`${dir}/manifests/RUN-W.manifest.json`);
    const parsed = JSON.parse(text);
    assert.deepEqual(parsed.records.map((r: { path: string }) => r.path), [
      "p/RUN-W/0u",
      "p/RUN-W/1a",
      "p/RUN-W/1z",
      "p/RUN-W/5a1",
      "p/RUN-W/5a2",
      "p/RUN-W/5b",
      "p/RUN-W/10a",
    ]);
    assert.equal(text, new TextDecoder().decode(canonicalJsonBytes(parsed)));
  });
});

Deno.test("ArtifactWriter.writeJson() of the same bytes again is a no-op with no duplicate record", async () => {
  await inTempDir(async (dir) => {
    const first = await new ArtifactWriter(dir).writeJson(base);
    const before = await snapshot(dir);
    const second = await new ArtifactWriter(dir).writeJson(base);
    assert.deepEqual(second, first);
    assert.deepEqual(await snapshot(dir), before);
    assert.equal((await manifest(dir)).records.length, 1);
  });
});

Deno.test("ArtifactWriter.writeJson() refuses different bytes for a recorded path with a DriftError naming both hashes", async () => {
  await inTempDir(async (dir) => {
    const writer = new ArtifactWriter(dir);
    const first = await writer.writeJson(base);
    const before = await snapshot(dir);
    await assert.rejects(
      writer.writeJson({ ...base, obj: { changed: true } }),
      (error: unknown) => {
        assert.ok(error instanceof DriftError);
        assert.equal(error.path, base.relPath);
        assert.equal(error.recordedSha256, first.sha256);
        assert.match(error.message, new RegExp(`${first.sha256}.*${error.attemptedSha256}`));
        return true;
      },
    );
    await assert.rejects(writer.writeJson({ ...base, kind: "other" }), /other metadata/);
    assert.deepEqual(await snapshot(dir), before);
  });
});

Deno.test("ArtifactWriter.writeJson() restores a recorded file that was deleted, with the recorded bytes", async () => {
  await inTempDir(async (dir) => {
    const writer = new ArtifactWriter(dir);
    const record = await writer.writeJson(base);
    const before = await snapshot(dir);
    await Deno.remove(writer.resolve(record.path));
    await writer.writeJson(base);
    assert.deepEqual(await snapshot(dir), before);
  });
});

Deno.test("ArtifactWriter.writeJson() rejects bad runIds and writes nothing", async () => {
  await inTempDir(async (dir) => {
    const root = `${dir}/artifacts`;
    const writer = new ArtifactWriter(root);
    for (const runId of ["", ".", "..", "a/b", "../x", "a b", "ü", "x".repeat(129), "a\u0000", 7]) {
      await assert.rejects(
        writer.writeJson({ ...base, runId: runId as string }),
        (error: unknown) => {
          assert.ok(error instanceof RangeError || error instanceof TypeError, String(error));
          assert.match((error as Error).message, /'runId' must be 1 to 128 letters/);
          return true;
        },
      );
    }
    assert.equal(await Deno.stat(root).then(() => "exists", () => "absent"), "absent");
  });
});

Deno.test("ArtifactWriter.writeJson() rejects paths that leave the root or touch reserved names", async () => {
  await inTempDir(async (dir) => {
    const root = `${dir}/artifacts`;
    const writer = new ArtifactWriter(root);
    const bad = [
      "/etc/x.json",
      "../x.json",
      "a/../../x.json",
      "a//b.json",
      "a\\b.json",
      "C:/x.json",
      "./a.json",
      "a/.",
      "",
      "manifests/RUN-W.manifest.json",
      ".hidden.json",
      "a/.x.json.tmp",
      "a\nb",
    ];
    for (const relPath of bad) {
      await assert.rejects(writer.writeJson({ ...base, relPath }), /'relPath' must be/, relPath);
    }
    assert.equal(await Deno.stat(root).then(() => "exists", () => "absent"), "absent");
  });
});

Deno.test("ArtifactWriter.writeJson() refuses a symbolic link that leads out of the root", async () => {
  await inTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/root`);
    await Deno.mkdir(`${dir}/outside`);
    await Deno.symlink(`${dir}/outside`, `${dir}/root/link`);
    const writer = new ArtifactWriter(`${dir}/root`);
    await assert.rejects(
      writer.writeJson({ ...base, relPath: "link/RUN-W/x.json" }),
      /symbolic link leads out/,
    );
    await assert.rejects(
      writer.writeJson({ ...base, relPath: "link/RUN-W/deeper/x.json" }),
      /symbolic link leads out/,
    );
    assert.deepEqual([...(await snapshot(`${dir}/outside`)).keys()], []);
  });
});

Deno.test("ArtifactWriter.writeJson() rejects non-canonical objects and bad fields before writing", async () => {
  await inTempDir(async (dir) => {
    const root = `${dir}/artifacts`;
    const writer = new ArtifactWriter(root);
    const cases: [Partial<WriteJsonOptions>, RegExp][] = [
      [{ obj: { x: NaN } }, /'obj\.x' must be a finite number/],
      [{ obj: { d: new Date() } }, /plain object or array/],
      [
        { extra: { bad: undefined, fn: (() => 1) as unknown as string } },
        /'extra\.fn' must be a JSON value/,
      ],
      [{ extra: [] as unknown as Record<string, unknown> }, /'extra' must be a plain object/],
      [{ tick: -1 }, /'tick' must be a non-negative integer/],
      [{ kind: "" }, /'kind' must be a non-empty string/],
      [{ schema: 5 as unknown as string }, /'schema'/],
    ];
    for (const [override, message] of cases) {
      await assert.rejects(writer.writeJson({ ...base, ...override }), message);
    }
    assert.equal(await Deno.stat(root).then(() => "exists", () => "absent"), "absent");
  });
});

Deno.test("ArtifactWriter.writeJson() calls made at once in one process all get recorded", async () => {
  await inTempDir(async (dir) => {
    const writers = [
      new ArtifactWriter(dir, { durable: false }),
      new ArtifactWriter(dir, { durable: false }),
    ];
    await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        writers[i % 2]!.writeJson({
          ...base,
          tick: 29 - i,
          relPath: `n/RUN-W/${29 - i}.json`,
          obj: { i },
        })),
    );
    const records = (await manifest(dir)).records;
    assert.deepEqual(records.map((r) => r.tick), Array.from({ length: 30 }, (_, i) => i));
  });
});

Deno.test("ArtifactWriter.writeJson() refuses a corrupt manifest instead of overwriting it", async () => {
  await inTempDir(async (dir) => {
    await new ArtifactWriter(dir).writeJson(base);
    const path = `${dir}/manifests/RUN-W.manifest.json`;
    await Deno.writeTextFile(path, (await Deno.readTextFile(path)).slice(0, -3));
    await assert.rejects(
      new ArtifactWriter(dir).writeJson({ ...base, tick: 1, relPath: "notes/RUN-W/1.json" }),
      (error: unknown) =>
        error instanceof ManifestError && /not valid UTF-8 JSON/.test(error.message),
    );
  });
});

Deno.test("ArtifactWriter.resolve() joins the artifacts directory and a checked relative path", () => {
  const writer = new ArtifactWriter("./out");
  assert.equal(writer.resolve("viz/R/000000.trendpack.json"), "out/viz/R/000000.trendpack.json");
  assert.throws(() => writer.resolve("../x"), RangeError);
  assert.throws(() => new ArtifactWriter(""), /'artifactsDir' must be a non-empty path string/);
});

Deno.test("ArtifactWriter.writeJson() keeps working after its directory is deleted", async () => {
  await inTempDir(async (dir) => {
    const root = `${dir}/artifacts`;
    const writer = new ArtifactWriter(root);
    await writer.writeJson(base);
    await Deno.remove(root, { recursive: true });
    await writer.writeJson({ ...base, tick: 1, relPath: "notes/RUN-W/000001.json" });
    assert.deepEqual([...(await snapshot(root)).keys()], [
      "manifests/RUN-W.manifest.json",
      "notes/RUN-W/000001.json",
    ]);
  });
});

Deno.test("ArtifactWriter.writeAll() records a batch at once, or nothing when one artifact drifts", async () => {
  await inTempDir(async (dir) => {
    const writer = new ArtifactWriter(dir);
    const first = await writer.prepareJson(base);
    const second = await writer.prepareJson({
      ...base,
      tick: 1,
      relPath: "notes/RUN-W/000001.json",
    });
    assert.deepEqual(await writer.writeAll([first, second]), [first.record, second.record]);
    assert.equal((await manifest(dir)).records.length, 2);
    const before = await snapshot(dir);
    const third = await writer.prepareJson({
      ...base,
      tick: 2,
      relPath: "notes/RUN-W/000002.json",
    });
    const drifted = await writer.prepareJson({ ...base, obj: { other: true } });
    await assert.rejects(writer.writeAll([third, drifted]), DriftError);
    assert.deepEqual(await snapshot(dir), before);
  });
});

Deno.test("ArtifactWriter.writeAll() refuses foreign objects, mixed runs and repeated paths", async () => {
  await inTempDir(async (dir) => {
    const writer = new ArtifactWriter(dir);
    const a = await writer.prepareJson(base);
    const other = await writer.prepareJson({
      ...base,
      runId: "RUN-X",
      relPath: "notes/RUN-X/000000.json",
    });
    await assert.rejects(writer.writeAll([]), /'artifacts' must be 1 to 1024 prepared artifacts/);
    await assert.rejects(
      writer.writeAll([{ record: a.record }]),
      /'artifacts\[0\]' must be an artifact from ArtifactWriter\.prepareJson\(\)/,
    );
    await assert.rejects(
      writer.writeAll([a, other]),
      /'artifacts\[1\]\.record\.run_id' must be the run of artifacts\[0\]/,
    );
    await assert.rejects(
      writer.writeAll([a, a]),
      /'artifacts\[1\]\.record\.path' must be a path no other artifact/,
    );
    assert.deepEqual([...(await snapshot(dir)).keys()], []);
  });
});

Deno.test("ArtifactWriter.writeJson() treats an extra of only undefined values as empty, and the manifest stays valid", async () => {
  await inTempDir(async (dir) => {
    const writer = new ArtifactWriter(dir);
    await writer.writeJson({ ...base, extra: { mode: undefined } });
    await writer.writeJson({
      ...base,
      tick: 1,
      relPath: "notes/RUN-W/000001.json",
      extra: { a: 1, b: undefined },
    });
    const records = (await manifest(dir)).records;
    assert.equal("extra" in records[0]!, false);
    assert.deepEqual(records[1]!.extra, { a: 1 });
    // A second process (no cache) must accept the manifest, and re-recording is a no-op.
    await new ArtifactWriter(dir).writeJson({ ...base, extra: {} });
    assert.equal((await verifyArtifacts(dir)).ok, true);
  });
});

Deno.test("ArtifactWriter.writeJson() refuses a manifests/ directory that is a symbolic link out of the root", async () => {
  await inTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/root`);
    await Deno.mkdir(`${dir}/outside`);
    await Deno.symlink(`${dir}/outside`, `${dir}/root/manifests`);
    await assert.rejects(
      new ArtifactWriter(`${dir}/root`).writeJson(base),
      /symbolic link leads out/,
    );
    assert.deepEqual([...(await snapshot(`${dir}/outside`)).keys()], []);
  });
});

Deno.test("ArtifactWriter.writeJson() notices a directory swapped for a symbolic link after an earlier write", async () => {
  await inTempDir(async (dir) => {
    const writer = new ArtifactWriter(`${dir}/root`);
    await writer.writeJson(base);
    await Deno.mkdir(`${dir}/outside`);
    await Deno.rename(`${dir}/root/notes/RUN-W`, `${dir}/moved`);
    await Deno.symlink(`${dir}/outside`, `${dir}/root/notes/RUN-W`);
    await assert.rejects(
      writer.writeJson({ ...base, tick: 1, relPath: "notes/RUN-W/000001.json" }),
      /symbolic link leads out/,
    );
    assert.deepEqual([...(await snapshot(`${dir}/outside`)).keys()], []);
  });
});

Deno.test("ArtifactWriter.writeJson() replaces a symbolic link at an unrecorded artifact's path instead of following it", async () => {
  await inTempDir(async (dir) => {
    const root = `${dir}/root`;
    await Deno.mkdir(`${root}/notes/RUN-W`, { recursive: true });
    await Deno.writeFile(`${dir}/decoy.json`, canonicalJsonBytes(base.obj));
    await Deno.symlink(`${dir}/decoy.json`, `${root}/notes/RUN-W/000000.json`);
    await new ArtifactWriter(root).writeJson(base);
    const info = await Deno.lstat(`${root}/notes/RUN-W/000000.json`);
    assert.equal(info.isSymlink, false);
    assert.equal((await verifyArtifacts(root)).ok, true);
  });
});

Deno.test("ArtifactWriter.writeJson() detects a manifest replaced by another file of the same size", async () => {
  await inTempDir(async (dir) => {
    const writer = new ArtifactWriter(dir);
    const first = await writer.writeJson(base);
    const path = `${dir}/manifests/RUN-W.manifest.json`;
    const other = await new ArtifactWriter(`${dir}/scratch`).writeJson({
      ...base,
      obj: { z: 2, a: [1e-5, "é"] },
    });
    const text = (await Deno.readTextFile(path)).replace(first.sha256, other.sha256);
    await Deno.writeTextFile(`${path}.new`, text);
    await Deno.rename(`${path}.new`, path);
    await assert.rejects(writer.writeJson(base), DriftError);
  });
});

Deno.test("ArtifactWriter keeps writing where it was created after the working directory changes", async () => {
  await inTempDir(async (dir) => {
    const cwd = Deno.cwd();
    await Deno.mkdir(`${dir}/a`);
    await Deno.mkdir(`${dir}/b`);
    try {
      Deno.chdir(`${dir}/a`);
      const writer = new ArtifactWriter("out");
      await writer.writeJson(base);
      Deno.chdir(`${dir}/b`);
      await writer.writeJson({ ...base, tick: 1, relPath: "notes/RUN-W/000001.json" });
    } finally {
      Deno.chdir(cwd);
    }
    assert.equal((await snapshot(`${dir}/a/out`)).size, 3);
    assert.deepEqual([...(await snapshot(`${dir}/b`)).keys()], []);
  });
});

Deno.test("ArtifactWriter refuses a journal that does not fit the manifest and leaves both untouched", async () => {
  await inTempDir(async (dir) => {
    const writer = new ArtifactWriter(dir);
    await writer.writeJson(base);
    const path = `${dir}/manifests/RUN-W.manifest.json`;
    const journal = `${dir}/manifests/.RUN-W.manifest.json.journal`;
    await Deno.writeTextFile(journal, "ERSJ1 1000 2\n]}");
    const before = await snapshot(dir);
    await assert.rejects(
      writer.writeJson({ ...base, tick: 1, relPath: "notes/RUN-W/000001.json" }),
      (error: unknown) =>
        error instanceof ManifestError && /does not fit a manifest of/.test(error.message),
    );
    assert.deepEqual(await snapshot(dir), before);
    const report = await verifyArtifacts(dir);
    assert.match(
      report.errors[0]?.message ?? "",
      /invalid manifest: its journal \(bytes 1000 to 1002\)/,
    );
    assert.equal((await Deno.stat(path)).size, before.get("manifests/RUN-W.manifest.json")!.length);
  });
});

Deno.test("ArtifactWriter drops the journal of a deleted manifest and starts the run's manifest anew", async () => {
  await inTempDir(async (dir) => {
    const writer = new ArtifactWriter(dir);
    await writer.writeJson(base);
    await Deno.writeTextFile(`${dir}/manifests/.RUN-W.manifest.json.journal`, "ERSJ1 10 2\n]}");
    await Deno.remove(`${dir}/manifests/RUN-W.manifest.json`);
    await writer.writeJson({ ...base, tick: 1, relPath: "notes/RUN-W/000001.json" });
    assert.deepEqual((await manifest(dir)).records.map((r) => r.tick), [1]);
    assert.equal(
      await Deno.stat(`${dir}/manifests/.RUN-W.manifest.json.journal`).then(
        () => true,
        () => false,
      ),
      false,
    );
  });
});

Deno.test("ArtifactWriter refuses manifests/ swapped for a link after a write, and a manifest that is a link", async () => {
  await inTempDir(async (dir) => {
    const root = `${dir}/root`;
    const writer = new ArtifactWriter(root);
    await writer.writeJson(base);
    await Deno.mkdir(`${dir}/outside`);
    await Deno.rename(`${root}/manifests`, `${dir}/old-manifests`);
    await Deno.symlink(`${dir}/outside`, `${root}/manifests`);
    const next = { ...base, tick: 1, relPath: "notes/RUN-W/000001.json" };
    await assert.rejects(writer.writeJson(next), /symbolic link leads out/);
    await Deno.remove(`${root}/manifests`);
    await Deno.rename(`${dir}/old-manifests`, `${root}/manifests`);
    await Deno.rename(`${root}/manifests/RUN-W.manifest.json`, `${dir}/outside/m.json`);
    await Deno.symlink(`${dir}/outside/m.json`, `${root}/manifests/RUN-W.manifest.json`);
    await assert.rejects(writer.writeJson(next), /not a regular file/);
    assert.deepEqual([...(await snapshot(`${dir}/outside`)).keys()], ["m.json"]);
  });
});

Deno.test("ArtifactWriter.writeAll() refuses a batch with a path a link leads out of, before writing any of it", async () => {
  await inTempDir(async (dir) => {
    const root = `${dir}/root`;
    await Deno.mkdir(`${dir}/outside`);
    await Deno.mkdir(root);
    await Deno.symlink(`${dir}/outside`, `${root}/link`);
    const writer = new ArtifactWriter(root);
    const good = await writer.prepareJson({ ...base, relPath: "a/RUN-W/1.json" });
    const bad = await writer.prepareJson({ ...base, tick: 1, relPath: "link/RUN-W/2.json" });
    await assert.rejects(writer.writeAll([good, bad]), /symbolic link leads out/);
    assert.equal(await Deno.stat(`${root}/a/RUN-W/1.json`).then(() => true, () => false), false);
    assert.deepEqual([...(await snapshot(`${dir}/outside`)).keys()], []);
  });
});

Deno.test("ArtifactWriter with groupCommit places files at once and records them only at flush(), as the default mode's bytes", async () => {
  await inTempDir(async (dir) => {
    const plain = new ArtifactWriter(`${dir}/plain`);
    const group = new ArtifactWriter(`${dir}/group`, { groupCommit: true });
    const write = (writer: ArtifactWriter, tick: number) =>
      writer.writeJson({ ...base, tick, obj: { tick }, relPath: `notes/RUN-W/${tick}.json` });
    for (let tick = 0; tick < 5; tick++) {
      const [a, b] = [await write(plain, tick), await write(group, tick)];
      assert.deepEqual(b, a);
      // Placed, not recorded.
      assert.equal(await Deno.readTextFile(group.resolve(b.path)), `{"tick":${tick}}`);
    }
    await assert.rejects(
      Deno.stat(`${dir}/group/manifests/RUN-W.manifest.json`),
      Deno.errors.NotFound,
    );
    assert.equal(await group.flush(), 5);
    assert.equal(await group.flush(), 0);
    assert.deepEqual(await snapshot(`${dir}/group`), await snapshot(`${dir}/plain`));
    // A second group into an existing manifest: the journaled in-place update.
    for (let tick = 5; tick < 8; tick++) await write(plain, tick);
    for (let tick = 5; tick < 8; tick++) await write(group, tick);
    assert.equal(await group.flush(), 3);
    assert.deepEqual(await snapshot(`${dir}/group`), await snapshot(`${dir}/plain`));
    assert.equal((await verifyArtifacts(`${dir}/group`)).ok, true);
  });
});

Deno.test("ArtifactWriter with groupCommit refuses a held path with other bytes, and a held path with the same bytes is a no-op", async () => {
  await inTempDir(async (dir) => {
    const writer = new ArtifactWriter(dir, { groupCommit: true });
    const first = await writer.writeJson(base);
    assert.deepEqual(await writer.writeJson(base), first);
    await assert.rejects(writer.writeJson({ ...base, obj: { other: 1 } }), DriftError);
    assert.equal(await writer.flush(), 1);
    await assert.rejects(writer.writeJson({ ...base, obj: { other: 1 } }), DriftError);
    assert.equal((await manifest(dir)).records.length, 1);
  });
});

Deno.test("ArtifactWriter.flush() refuses a placed file changed before it is recorded, and records nothing of it", async () => {
  await inTempDir(async (dir) => {
    const writer = new ArtifactWriter(dir, { groupCommit: true });
    const record = await writer.writeJson(base);
    await Deno.writeTextFile(writer.resolve(record.path), '{"forged":true}');
    await assert.rejects(
      writer.flush(),
      (error: Error) =>
        error.name === "ArtifactIoError" &&
        error.message.includes(record.path) &&
        error.message.includes("changed between being placed and being recorded"),
    );
    await assert.rejects(Deno.stat(`${dir}/manifests/RUN-W.manifest.json`), Deno.errors.NotFound);
    // Writing it again restores the bytes; the next flush records it.
    await writer.writeJson(base);
    assert.equal(await writer.flush(), 1);
    assert.equal((await verifyArtifacts(dir)).ok, true);
  });
});

Deno.test("ArtifactWriter.flush() refuses a held path another writer recorded with other bytes", async () => {
  await inTempDir(async (dir) => {
    const group = new ArtifactWriter(dir, { groupCommit: true });
    await group.writeJson(base);
    const other = new ArtifactWriter(dir);
    // The other writer places its own bytes and records them first.
    await other.writeJson({ ...base, obj: { theirs: 1 } });
    await assert.rejects(group.flush(), DriftError);
    assert.deepEqual((await manifest(dir)).records.map((r) => r.sha256), [
      (await other.prepareJson({ ...base, obj: { theirs: 1 } })).record.sha256,
    ]);
  });
});

Deno.test("ArtifactWriter refuses groupCommit without durability, or not a boolean", () => {
  assert.throws(
    () => new ArtifactWriter("out", { durable: false, groupCommit: true }),
    (error: Error) => error instanceof RangeError && error.message.includes("'groupCommit'"),
  );
  assert.throws(
    // @ts-expect-error: not a boolean
    () => new ArtifactWriter("out", { groupCommit: "yes" }),
    (error: Error) => error instanceof TypeError && error.message.includes("'groupCommit'"),
  );
  // A writer without groupCommit holds nothing.
  return new ArtifactWriter("out").flush().then((count) => assert.equal(count, 0));
});

// More records than a writer keeps in memory (the rest it looks up on disk).
const MANY_TICKS = 300;
const note = (tick: number, obj: unknown = { tick }): WriteJsonOptions => ({
  ...base,
  tick,
  obj,
  relPath: `notes/RUN-W/${tick}.json`,
});

Deno.test("ArtifactWriter finds records far behind the end of a long manifest on disk: drift, restore and no-op alike", async () => {
  await inTempDir(async (dir) => {
    const writer = new ArtifactWriter(dir, { durable: false });
    for (let tick = 0; tick < MANY_TICKS; tick++) await writer.writeJson(note(tick));
    const before = await Deno.readFile(`${dir}/manifests/RUN-W.manifest.json`);
    // The same bytes again: a no-op; other bytes or other metadata: DriftError.
    assert.equal((await writer.writeJson(note(3))).tick, 3);
    await assert.rejects(writer.writeJson(note(3, { other: 1 })), DriftError);
    await assert.rejects(
      writer.writeJson({ ...note(3), tick: MANY_TICKS + 5 }),
      (error: Error) => error instanceof DriftError && /other metadata/.test(error.message),
    );
    await assert.rejects(writer.writeJson({ ...note(3), kind: "other" }), DriftError);
    // A deleted early file is restored from the record found on disk.
    await Deno.remove(writer.resolve("notes/RUN-W/7.json"));
    await writer.writeJson(note(7));
    assert.equal(await Deno.readTextFile(writer.resolve("notes/RUN-W/7.json")), '{"tick":7}');
    assert.deepEqual(await Deno.readFile(`${dir}/manifests/RUN-W.manifest.json`), before);
    // A new writer (a resumed run) reads the end of the manifest once and carries on.
    const resumed = new ArtifactWriter(dir, { durable: false });
    await assert.rejects(resumed.writeJson(note(1, { other: 1 })), DriftError);
    await resumed.writeJson(note(MANY_TICKS));
    assert.equal((await verifyArtifacts(dir)).records, MANY_TICKS + 1);
  });
});

Deno.test("ArtifactWriter writes a long run in any order as the same bytes as in order", async () => {
  await inTempDir(async (dir) => {
    const ordered = new ArtifactWriter(`${dir}/ordered`, { durable: false });
    for (let tick = 0; tick < MANY_TICKS; tick++) await ordered.writeJson(note(tick));
    // The second half first, then the first half, then a gap filled in the middle.
    const shuffled = new ArtifactWriter(`${dir}/shuffled`, { durable: false });
    const order = [
      ...Array.from({ length: 150 }, (_, i) => 150 + i).filter((t) => t < 220 || t >= 230),
      ...Array.from({ length: 150 }, (_, i) => i),
      ...Array.from({ length: 10 }, (_, i) => 220 + i),
    ];
    assert.equal(order.length, MANY_TICKS);
    for (const tick of order) await shuffled.writeJson(note(tick));
    assert.deepEqual(await snapshot(`${dir}/shuffled`), await snapshot(`${dir}/ordered`));
  });
});

// The paths Deno.FsFile.syncData() was called for while `fn` ran (directories
// and temporary files; the writer syncs artifacts through node:fs handles).
async function syncedPaths(fn: () => Promise<void>): Promise<string[]> {
  const synced: string[] = [];
  const paths = new WeakMap<Deno.FsFile, string>();
  const open = Deno.open;
  const syncData = Deno.FsFile.prototype.syncData;
  Deno.open = async (path, options) => {
    const file = await open(path, options);
    paths.set(file, String(path));
    return file;
  };
  Deno.FsFile.prototype.syncData = function (this: Deno.FsFile) {
    synced.push(paths.get(this) ?? "?");
    return syncData.call(this);
  };
  try {
    await fn();
  } finally {
    Deno.open = open;
    Deno.FsFile.prototype.syncData = syncData;
  }
  return synced;
}

Deno.test("ArtifactWriter syncs every directory entry above a new artifact before its record, in both durable modes", async () => {
  await inTempDir(async (dir) => {
    for (const groupCommit of [false, true]) {
      const root = `${dir}/${groupCommit}`;
      const writer = new ArtifactWriter(root, { groupCommit });
      const synced = await syncedPaths(async () => {
        await writer.writeJson(base);
        await writer.flush();
      });
      const manifestSync = synced.findIndex((p) => p.includes("RUN-W.manifest.json"));
      assert.ok(manifestSync > 0, JSON.stringify(synced));
      const before = new Set(synced.slice(0, manifestSync));
      for (const entry of [root, `${root}/notes`, `${root}/notes/RUN-W`]) {
        assert.ok(
          before.has(entry),
          `${entry} synced before the record: ${JSON.stringify(synced)}`,
        );
      }
      assert.equal((await verifyArtifacts(root)).records, 1);
    }
  });
});

Deno.test("ArtifactWriter syncs the directory of an unrecorded file it finds already in place (a crash leftover) before recording it", async () => {
  await inTempDir(async (dir) => {
    for (const groupCommit of [false, true]) {
      const root = `${dir}/${groupCommit}`;
      // A killed run placed the file (its directory entry maybe never synced)
      // and recorded nothing; the next run finds the same bytes and keeps them.
      await Deno.mkdir(`${root}/notes/RUN-W`, { recursive: true });
      await Deno.writeFile(`${root}/${base.relPath}`, canonicalJsonBytes(base.obj));
      const writer = new ArtifactWriter(root, { groupCommit });
      const synced = await syncedPaths(async () => {
        await writer.writeJson(base);
        await writer.flush();
      });
      const manifestSync = synced.findIndex((p) => p.includes("RUN-W.manifest.json"));
      assert.ok(manifestSync > 0, JSON.stringify(synced));
      assert.ok(
        synced.slice(0, manifestSync).includes(`${root}/notes/RUN-W`),
        `${root}/notes/RUN-W synced before the record: ${JSON.stringify(synced)}`,
      );
      assert.equal((await verifyArtifacts(root)).ok, true);
    }
  });
});

Deno.test("ArtifactWriter.flush() refuses a held file's directory swapped for a symbolic link out of the root, recording nothing", async () => {
  await inTempDir(async (dir) => {
    const root = `${dir}/root`;
    const writer = new ArtifactWriter(root, { groupCommit: true });
    const record = await writer.writeJson(base);
    // The same bytes outside the root, and the run's directory now leads there.
    await Deno.mkdir(`${dir}/outside`);
    await Deno.writeFile(`${dir}/outside/000000.json`, canonicalJsonBytes(base.obj));
    await Deno.remove(`${root}/notes/RUN-W`, { recursive: true });
    await Deno.symlink(`${dir}/outside`, `${root}/notes/RUN-W`);
    await assert.rejects(
      writer.flush(),
      (error: Error) => error instanceof RangeError && error.message.includes("symbolic link"),
    );
    await assert.rejects(Deno.stat(`${root}/manifests/RUN-W.manifest.json`), Deno.errors.NotFound);
    // Once the directory is real again, writing the tick again records it.
    await Deno.remove(`${root}/notes/RUN-W`);
    await writer.writeJson(base);
    assert.equal(await writer.flush(), 1);
    assert.equal((await verifyArtifacts(root)).ok, true);
    assert.equal(record.path, base.relPath);
  });
});

Deno.test("ArtifactWriter refuses an extra whose arrays hold a whole manifest record, naming where", async () => {
  await inTempDir(async (dir) => {
    const writer = new ArtifactWriter(dir, { durable: false });
    const whole = {
      bytes: 9,
      kind: "note",
      path: "notes/RUN-W/5.json",
      schema: "Note.v0",
      sha256: "0".repeat(64),
      tick: 5,
    };
    for (
      const [extra, at] of [
        [{ decoys: [whole] }, "extra.decoys[0]"],
        [{ a: { b: [1, [whole]] } }, "extra.a.b[1][0]"],
      ] as const
    ) {
      await assert.rejects(
        writer.writeJson({ ...note(4), extra }),
        (error: Error) => error instanceof RangeError && error.message.includes(`'${at}'`),
      );
    }
    await assert.rejects(Deno.stat(`${dir}/manifests/RUN-W.manifest.json`), Deno.errors.NotFound);
    // Not in an array, or short of a field: not taken for a record.
    const { sha256: _, ...partial } = whole;
    await writer.writeJson({ ...note(4), extra: { one: whole, decoys: [partial] } });
    assert.equal((await verifyArtifacts(dir)).records, 1);
  });
});

Deno.test("ArtifactWriter is not misled by a manifest whose extra holds whole records: a rewrite far back is checked against the real record", async () => {
  await inTempDir(async (dir) => {
    const writer = new ArtifactWriter(dir, { durable: false });
    for (let tick = 0; tick < MANY_TICKS; tick++) await writer.writeJson(note(tick));
    // Another tool gives tick 4's record an extra of thousands of
    // record-shaped decoys (so that a binary search of the manifest lands
    // among them), the last one for tick 5's path with a forged hash.
    const decoy = { bytes: 9, kind: "note", schema: "Note.v0", sha256: "0".repeat(64) };
    const decoys = Array.from({ length: 3000 }, (_, i) => ({
      ...decoy,
      path: `notes/RUN-W/decoy-${i}.json`,
      tick: 0,
    }));
    decoys.push({ ...decoy, path: "notes/RUN-W/5.json", tick: 5 });
    const path = `${dir}/manifests/RUN-W.manifest.json`;
    const edited = new ManifestModel("RUN-W");
    edited.insertAll(
      ManifestModel.parse("RUN-W", await Deno.readFile(path)).records()
        .map((record) => record.tick === 4 ? { ...record, extra: { decoys } } : record),
    );
    await Deno.writeTextFile(path, edited.toText());
    const resumed = new ArtifactWriter(dir, { durable: false });
    assert.equal((await resumed.writeJson(note(5))).tick, 5);
    const real = (await resumed.prepareJson(note(5))).record.sha256;
    await assert.rejects(
      resumed.writeJson(note(5, { other: 1 })),
      (error: Error) => error instanceof DriftError && error.message.includes(real),
    );
    assert.equal((await verifyArtifacts(dir)).ok, true);
  });
});

Deno.test("ArtifactWriter never writes over a manifest edited in place by another tool that kept its size and time stamps", async () => {
  await inTempDir(async (dir) => {
    const writer = new ArtifactWriter(dir, { durable: false });
    for (let tick = 0; tick < 3; tick++) await writer.writeJson(note(tick));
    // Another tool forges tick 1's hash in place (same size) and puts the
    // modification time back: only the change time, in whole seconds as Deno
    // reports it, may tell.
    const path = `${dir}/manifests/RUN-W.manifest.json`;
    const info = await Deno.stat(path);
    const text = await Deno.readTextFile(path);
    const [record] = (JSON.parse(text).records as { sha256: string }[]).slice(1, 2);
    const forged = "f".repeat(64);
    await Deno.writeTextFile(path, text.replace(record?.sha256 as string, forged));
    await Deno.utime(path, info.atime as Date, info.mtime as Date);
    // A record that sorts before tick 1's rewrites it: on the manifest as it is.
    await writer.writeJson({ ...note(0), kind: "late", relPath: "notes/RUN-W/0.late.json" });
    const after = await Deno.readTextFile(path);
    assert.ok(after.includes(forged), "the forged hash is still there for verify to find");
    const report = await verifyArtifacts(dir);
    assert.deepEqual(report.errors.map((e) => e.path), ["notes/RUN-W/1.json"]);
    assert.equal(report.records, 4);
  });
});

Deno.test("ArtifactWriter syncs the directories above a new artifact even when its first batch there failed", async () => {
  await inTempDir(async (dir) => {
    for (const groupCommit of [false, true]) {
      const root = `${dir}/${groupCommit}`;
      // A directory where the batch's second artifact goes fails the batch,
      // after its directories were checked (and made).
      await Deno.mkdir(`${root}/notes/RUN-W/1.json`, { recursive: true });
      const writer = new ArtifactWriter(root, { groupCommit });
      const batch = [await writer.prepareJson(note(0)), await writer.prepareJson(note(1))];
      await assert.rejects(
        writer.writeAll(batch),
        (error: Error) => /directory/.test(error.message),
      );
      const synced = await syncedPaths(async () => {
        await writer.writeJson(note(0));
        await writer.flush();
      });
      const manifestSync = synced.findIndex((p) => p.includes("RUN-W.manifest.json"));
      assert.ok(manifestSync > 0, JSON.stringify(synced));
      const before = new Set(synced.slice(0, manifestSync));
      for (const entry of [root, `${root}/notes`, `${root}/notes/RUN-W`]) {
        assert.ok(
          before.has(entry),
          `${entry} synced before the record: ${JSON.stringify(synced)}`,
        );
      }
    }
  });
});

// Two paths with one 53-bit fingerprint (found by a cycle search over
// five-character names): the tail cannot tell them apart without the disk.
const COLLIDING = [
  "notes/R/\u558e\u54cf\u5060\u4f80\u4f99.json",
  "notes/R/\u4e06\u5106\u50a3\u4f32\u4ff3.json",
];

Deno.test("ArtifactWriter tells apart two paths with the same fingerprint by looking on disk", async () => {
  await inTempDir(async (dir) => {
    const [recorded, other] = COLLIDING as [string, string];
    const tail = ManifestTail.of(new ManifestModel("R"), 1);
    tail.insertAll([{
      tick: 0,
      kind: "note",
      schema: "Note.v0",
      path: recorded,
      sha256: "0".repeat(64),
      bytes: 1,
    }]);
    assert.ok(tail.mayHold(other), "the fingerprints collide");
    const writer = new ArtifactWriter(dir, { durable: false });
    const at = (relPath: string, tick: number, obj: unknown = { tick }): WriteJsonOptions => ({
      ...base,
      runId: "R",
      tick,
      obj,
      relPath,
    });
    await writer.writeJson(at(recorded, 0));
    // Enough records after it that it is no longer kept in memory.
    for (let tick = 1; tick < MANY_TICKS; tick++) {
      await writer.writeJson(at(`notes/R/${tick}.json`, tick));
    }
    const resumed = new ArtifactWriter(dir, { durable: false });
    await resumed.writeJson(at(other, 0));
    await assert.rejects(resumed.writeJson(at(recorded, 0, { other: 1 })), DriftError);
    await resumed.writeJson(at(other, 0));
    const report = await verifyArtifacts(dir);
    assert.equal(report.ok, true);
    assert.equal(report.records, MANY_TICKS + 1);
  });
});
