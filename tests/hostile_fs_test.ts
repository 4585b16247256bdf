// What an attacker (or an accident) can put where ERS expects its own files:
// hard links, FIFOs and directories in place of a manifest or an artifact, a
// run's manifest deleted or emptied, and the operating system's own errors.
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  abraxasTick,
  ArtifactIoError,
  ArtifactWriter,
  bindCallable,
  ManifestError,
  type TaskFn,
  verifyArtifacts,
} from "../mod.ts";
import {
  laneTotals,
  readRunManifest,
  readRunTicks,
  runEvents,
  RunReadError,
  taskTotals,
} from "../mod.ts";

const ok: TaskFn = () => ({ ok: true });
const MANIFEST = "manifests/R.manifest.json";
const TRENDPACK = "viz/R/000000.trendpack.json";
const note = { runId: "R", kind: "note", schema: "Note.v0", obj: { n: 1 } };

async function withRun(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "ers-hostile-" });
  try {
    for (const tick of [0, 1]) {
      await abraxasTick({
        tick,
        runId: "R",
        mode: "test",
        artifactsDir: dir,
        runSignal: ok,
        runCompress: ok,
        runOverlay: ok,
      });
    }
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function nextTick(dir: string, tick = 2): Promise<unknown> {
  return abraxasTick({
    tick,
    runId: "R",
    mode: "test",
    artifactsDir: dir,
    runSignal: ok,
    runCompress: ok,
    runOverlay: ok,
  });
}

// Replaces `path` with a hard link to a copy of it in `outside`.
async function hardLinkOut(path: string, outside: string): Promise<string> {
  const copy = join(outside, "copy");
  await Deno.copyFile(path, copy);
  await Deno.remove(path);
  await Deno.link(copy, path);
  return copy;
}

// Root on Linux (asked of `id`, which needs no --allow-sys) can mount a small
// tmpfs to fill.
function canMountTmpfs(): boolean {
  if (Deno.build.os !== "linux") return false;
  try {
    const id = new Deno.Command("id", { args: ["-u"], stderr: "null" }).outputSync();
    return new TextDecoder().decode(id.stdout).trim() === "0";
  } catch {
    return false;
  }
}

// Runs the CLI with a deadline: a command that blocks is killed and fails.
function ersWithin(seconds: number, ...args: string[]): Promise<Deno.CommandOutput> {
  return ersWithinAllowed(["-A"], seconds, ...args);
}

async function ersWithinAllowed(
  allow: string[],
  seconds: number,
  ...args: string[]
): Promise<Deno.CommandOutput> {
  return await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      ...allow,
      new URL("../scripts/ers.ts", import.meta.url).pathname,
      ...args,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
    signal: AbortSignal.timeout(seconds * 1000),
  }).output();
}

Deno.test("ArtifactWriter refuses a manifest hard-linked to a file outside the root and leaves that file alone", async () => {
  const outside = await Deno.makeTempDir({ prefix: "ers-outside-" });
  try {
    await withRun(async (dir) => {
      const copy = await hardLinkOut(join(dir, MANIFEST), outside);
      const before = await Deno.readFile(copy);
      await assert.rejects(nextTick(dir), (error: unknown) => {
        assert.ok(error instanceof ManifestError, String(error));
        assert.match(error.message, /manifests\/R\.manifest\.json .*2 hard links/);
        return true;
      });
      assert.deepEqual(await Deno.readFile(copy), before);
      const report = await verifyArtifacts(dir);
      assert.equal(report.ok, false);
      assert.match(report.errors.find((e) => e.path === MANIFEST)?.message ?? "", /hard links/);
    });
  } finally {
    await Deno.remove(outside, { recursive: true });
  }
});

Deno.test("verifyArtifacts() and readRunTicks() refuse a recorded artifact with more than one link", async () => {
  const outside = await Deno.makeTempDir({ prefix: "ers-outside-" });
  try {
    await withRun(async (dir) => {
      await hardLinkOut(join(dir, TRENDPACK), outside);
      const report = await verifyArtifacts(dir, { runId: "R" });
      assert.equal(report.ok, false);
      assert.match(report.errors.find((e) => e.path === TRENDPACK)?.message ?? "", /2 hard links/);
      await assert.rejects(
        readRunTicks(dir, await readRunManifest(dir, "R")),
        (error: unknown) => error instanceof RunReadError && /hard links/.test(error.message),
      );
    });
  } finally {
    await Deno.remove(outside, { recursive: true });
  }
});

Deno.test("verify, show and index never block on a FIFO in place of the manifest", async () => {
  await withRun(async (dir) => {
    await Deno.remove(join(dir, MANIFEST));
    await new Deno.Command("mkfifo", { args: [join(dir, MANIFEST)] }).output();
    for (
      const args of [
        ["verify", dir, "--run", "R"],
        ["verify", dir],
        ["show", dir, "--run", "R", "--tick", "0"],
        ["index", dir, "--run", "R"],
      ]
    ) {
      const out = await ersWithin(30, ...args);
      const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 1, `${args.join(" ")}: ${text}`);
      assert.match(text, /manifests\/R\.manifest\.json.*not a regular file \(a FIFO\)/, text);
    }
    await assert.rejects(nextTick(dir), /not a regular file \(a FIFO\)/);
  });
});

// With -A, Deno opens the path as given (O_NOFOLLOW refuses a final link);
// with scoped --allow-read it resolves links itself, so only the lstat and
// identity checks stand between verify and a file outside the root.
Deno.test("verify refuses a FIFO, a link and a hard link in place of recorded artifacts, with -A and with scoped --allow-read", async () => {
  const outside = await Deno.makeTempDir({ prefix: "ers-outside-" });
  try {
    await withRun(async (dir) => {
      const fifo = "viz/R/000000.trendpack.json";
      const link = "viz/R/000001.trendpack.json";
      const hard = "run_index/R/000000.runindex.json";
      await Deno.remove(join(dir, fifo));
      await new Deno.Command("mkfifo", { args: [join(dir, fifo)] }).output();
      // The same bytes outside the root, reached through a link: still refused.
      await Deno.copyFile(join(dir, link), join(outside, "same"));
      await Deno.remove(join(dir, link));
      await Deno.symlink(join(outside, "same"), join(dir, link));
      await hardLinkOut(join(dir, hard), outside);
      for (const allow of [["-A"], [`--allow-read=${dir},${outside}`]]) {
        const out = await ersWithinAllowed(allow, 30, "verify", dir, "--json");
        const text = new TextDecoder().decode(out.stdout);
        assert.equal(out.code, 1, `${allow}: ${text}`);
        const errors = Object.fromEntries(
          (JSON.parse(text).errors as { path: string; message: string }[])
            .map((e) => [e.path, e.message]),
        );
        assert.match(errors[fifo] ?? "", /not a regular file \(a FIFO\)/, `${allow}: ${text}`);
        assert.match(errors[link] ?? "", /symbolic link/, `${allow}: ${text}`);
        assert.match(errors[hard] ?? "", /2 hard links/, `${allow}: ${text}`);
      }
    });
  } finally {
    await Deno.remove(outside, { recursive: true });
  }
});

Deno.test("a directory in place of the manifest is reported, not a raw IsADirectory", async () => {
  await withRun(async (dir) => {
    await Deno.remove(join(dir, MANIFEST));
    await Deno.mkdir(join(dir, MANIFEST));
    const report = await verifyArtifacts(dir);
    assert.equal(report.ok, false);
    assert.match(
      report.errors.find((e) => e.path === MANIFEST)?.message ?? "",
      /not a regular file \(a directory\)/,
    );
    await assert.rejects(readRunManifest(dir, "R"), /not a regular file \(a directory\)/);
    await assert.rejects(nextTick(dir), ManifestError);
  });
});

Deno.test("verifyArtifacts() fails when a run's manifest is deleted or emptied", async () => {
  await withRun(async (dir) => {
    const manifest = await Deno.readTextFile(join(dir, MANIFEST));
    await Deno.remove(join(dir, MANIFEST));
    const deleted = await verifyArtifacts(dir);
    assert.equal(deleted.ok, false);
    assert.deepEqual(deleted.errors, [{
      path: MANIFEST,
      message:
        "run R has no manifest, but files lie in its place: run_index/R/000000.runindex.json and 3 more",
    }]);
    assert.equal(deleted.warnings.length, 4);
    await Deno.writeTextFile(
      join(dir, MANIFEST),
      manifest.replace(/"records":\[.*\],"run_id"/, '"records":[],"run_id"'),
    );
    const emptied = await verifyArtifacts(dir, { runId: "R" });
    assert.equal(emptied.ok, false);
    assert.match(
      emptied.errors.find((e) => e.path === MANIFEST)?.message ?? "",
      /^run R's manifest records nothing, but files lie in its place: /,
    );
    assert.equal((await verifyArtifacts(dir)).ok, false);
  });
});

Deno.test("verifyArtifacts() still only warns of a crash's temporary file and of files of no run", async () => {
  await withRun(async (dir) => {
    await Deno.writeTextFile(join(dir, "viz/R/.000002.trendpack.json.tmp"), "{");
    await Deno.writeTextFile(join(dir, "README"), "notes");
    const report = await verifyArtifacts(dir);
    assert.equal(report.ok, true, JSON.stringify(report.errors));
    assert.deepEqual(report.warnings.map((w) => w.path), [
      "README",
      "viz/R/.000002.trendpack.json.tmp",
    ]);
  });
});

Deno.test("ArtifactWriter maps the operating system's errors to one line naming the path", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ers-oserr-" });
  try {
    await Deno.writeTextFile(join(dir, "file"), "x");
    const notDir = new ArtifactWriter(join(dir, "file"));
    await assert.rejects(notDir.writeJson({ ...note, tick: 0, relPath: "n/R/0.json" }), (e) => {
      assert.ok(e instanceof ArtifactIoError, String(e));
      assert.equal(e.message.split("\n").length, 1);
      assert.match(e.message, /file is not a directory/);
      assert.match(e.message, /nothing was recorded/);
      return true;
    });
    const writer = new ArtifactWriter(dir);
    await writer.writeJson({ ...note, tick: 0, relPath: "n/R/sub/0.json" });
    // A directory where the artifact would go, and no temporary file left.
    await assert.rejects(writer.writeJson({ ...note, tick: 1, relPath: "n/R/sub" }), (e) => {
      assert.ok(e instanceof ArtifactIoError, String(e));
      assert.match(
        e.message,
        /^Cannot write artifact n\/R\/sub: it is a directory; nothing was recorded$/,
      );
      return true;
    });
    assert.deepEqual((await Array.fromAsync(Deno.readDir(join(dir, "n/R")))).map((e) => e.name), [
      "sub",
    ]);
    // Names too long for the file system are refused before any I/O.
    await assert.rejects(
      writer.writeJson({ ...note, tick: 1, relPath: `n/R/${"a".repeat(256)}.json` }),
      /'relPath' must .*250 bytes/,
    );
    // "manifests" itself is reserved, and leaves no stray temporary file.
    await assert.rejects(writer.writeJson({ ...note, tick: 1, relPath: "manifests" }), RangeError);
    assert.deepEqual(
      (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort(),
      ["file", "manifests", "n"],
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "ArtifactWriter names the file and says nothing was recorded when the disk is full",
  ignore: !canMountTmpfs(),
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "ers-full-" });
    const mount = await new Deno.Command("mount", {
      args: ["-t", "tmpfs", "-o", "size=64k", "tmpfs", dir],
    }).output();
    assert.equal(mount.code, 0, new TextDecoder().decode(mount.stderr));
    try {
      const writer = new ArtifactWriter(dir);
      await writer.writeJson({ ...note, tick: 0, relPath: "n/R/0.json" });
      const big = { ...note, tick: 1, relPath: "n/R/1.json", obj: "x".repeat(200_000) };
      await assert.rejects(writer.writeJson(big), (e) => {
        assert.ok(e instanceof ArtifactIoError, String(e));
        assert.match(
          e.message,
          /^Cannot write artifact n\/R\/1\.json: no space left on the device; nothing was recorded$/,
        );
        return true;
      });
      const { records } = await readRunManifest(dir, "R");
      assert.deepEqual(records.map((r) => r.path), ["n/R/0.json"]);
      assert.deepEqual((await Array.fromAsync(Deno.readDir(join(dir, "n/R")))).map((e) => e.name), [
        "0.json",
      ]);
    } finally {
      await new Deno.Command("umount", { args: [dir] }).output();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("option objects and array inputs are checked, naming the argument", async () => {
  const expect = (fn: () => unknown, pattern: RegExp) =>
    assert.throws(fn, (e: unknown) => e instanceof TypeError && pattern.test(e.message));
  expect(
    () => new ArtifactWriter("out", { durable: "no" as never }),
    /'durable' must be a boolean/,
  );
  expect(() => new ArtifactWriter("out", 5 as never), /'options' must be an object/);
  expect(
    // deno-lint-ignore no-sparse-arrays
    () =>
      bindCallable({
        name: "t",
        lane: "forecast",
        priority: 0,
        costOps: 1,
        fn: ok,
        tags: [, "x"] as string[],
      }),
    /'tags\[0\]' must be a string/,
  );
  expect(() => runEvents("x" as never), /'ticks' must be an array/);
  expect(() => runEvents([], 5 as never), /'filter' must be an object/);
  expect(() => taskTotals({} as never), /'events' must be an array/);
  expect(() => laneTotals("x" as never), /'events' must be an array/);
  await assert.rejects(readRunTicks("out", "x" as never), /'manifest' must be/);
  await assert.rejects(
    readRunTicks("out", { run_id: "R", records: [] } as never, 5 as never),
    /'options' must be an object/,
  );
  await assert.rejects(verifyArtifacts("out", 5 as never), /'options' must be an object/);
});
