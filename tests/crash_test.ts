// Crash safety, resumption and concurrency of the artifact runtime, with real
// subprocesses.
import assert from "node:assert/strict";
import { verifyArtifacts } from "../mod.ts";
import { denoRun, scoped, snapshot } from "./_tree.ts";

const EMIT = "./fixtures/emit_run.ts";

async function withDirs<T>(count: number, fn: (...dirs: string[]) => Promise<T>): Promise<T> {
  const dirs = await Promise.all(
    Array.from({ length: count }, () => Deno.makeTempDir({ prefix: "ers-crash-" })),
  );
  try {
    return await fn(...dirs);
  } finally {
    await Promise.all(dirs.map((dir) => Deno.remove(dir, { recursive: true })));
  }
}

async function emit(dir: string, from: number, to: number, ...extra: string[]) {
  return await denoRun(scoped(dir), EMIT, [dir, "RUN-C", String(from), String(to), ...extra]);
}

async function assertNothingRecordedIsBroken(dir: string, context: string): Promise<void> {
  const hasManifest = await Deno.stat(`${dir}/manifests/RUN-C.manifest.json`).then(
    () => true,
    () => false,
  );
  if (!hasManifest) return;
  const report = await verifyArtifacts(dir);
  assert.deepEqual(report.errors, [], `${context}: ${JSON.stringify(report.errors)}`);
}

Deno.test("abraxasTick() survives a crash before any file-system step and resumes to identical bytes", async () => {
  await withDirs(1, async (reference) => {
    const clean = await emit(reference, 0, 2);
    assert.equal(clean.code, 0, clean.stderr);
    const mutations = JSON.parse(clean.stdout).mutations as number;
    assert.ok(mutations > 10, `${mutations} mutations`);
    const expected = await snapshot(reference);
    for (let crashAt = 1; crashAt <= mutations; crashAt++) {
      await withDirs(1, async (dir) => {
        const crashed = await emit(dir, 0, 2, "--crash-at", String(crashAt));
        assert.equal(crashed.code, 70, `crash at ${crashAt}: ${crashed.stderr}`);
        await assertNothingRecordedIsBroken(dir, `after a crash at step ${crashAt}`);
        const resumed = await emit(dir, 0, 2);
        assert.equal(resumed.code, 0, `resume after step ${crashAt}: ${resumed.stderr}`);
        assert.deepEqual(
          await snapshot(dir),
          expected,
          `directory after crash at step ${crashAt} and resume`,
        );
      });
    }
  });
});

Deno.test("a group-commit run survives a crash before any file-system step and resumes to identical bytes", async () => {
  await withDirs(1, async (reference) => {
    // Three ticks, flushed after the second and at the end.
    const clean = await emit(reference, 0, 3, "--group", "2");
    assert.equal(clean.code, 0, clean.stderr);
    const mutations = JSON.parse(clean.stdout).mutations as number;
    assert.ok(mutations > 10, `${mutations} mutations`);
    const expected = await snapshot(reference);
    for (let crashAt = 1; crashAt <= mutations; crashAt++) {
      await withDirs(1, async (dir) => {
        const crashed = await emit(dir, 0, 3, "--group", "2", "--crash-at", String(crashAt));
        assert.equal(crashed.code, 70, `crash at ${crashAt}: ${crashed.stderr}`);
        await assertNothingRecordedIsBroken(dir, `after a crash at step ${crashAt}`);
        const resumed = await emit(dir, 0, 3, "--group", "2");
        assert.equal(resumed.code, 0, `resume after step ${crashAt}: ${resumed.stderr}`);
        assert.deepEqual(
          await snapshot(dir),
          expected,
          `directory after crash at step ${crashAt} and resume`,
        );
      });
    }
  });
});

Deno.test("abraxasTick() survives a write torn at any point (manifest included) and resumes to identical bytes", async () => {
  await withDirs(1, async (reference) => {
    const clean = await emit(reference, 0, 3);
    assert.equal(clean.code, 0, clean.stderr);
    const kinds = JSON.parse(clean.stdout).kinds as string[];
    const writes = kinds.flatMap((kind, i) => (kind === "write" ? [i + 1] : []));
    assert.ok(writes.length >= 9, `${writes.length} writes`);
    const expected = await snapshot(reference);
    for (const tearAt of writes) {
      await withDirs(1, async (dir) => {
        const torn = await emit(dir, 0, 3, "--crash-at", String(tearAt), "--tear");
        assert.equal(torn.code, 70, `tear at ${tearAt}: ${torn.stderr}`);
        await assertNothingRecordedIsBroken(dir, `after a write torn at step ${tearAt}`);
        const resumed = await emit(dir, 0, 3);
        assert.equal(resumed.code, 0, `resume after tear at step ${tearAt}: ${resumed.stderr}`);
        assert.deepEqual(
          await snapshot(dir),
          expected,
          `directory after tear at step ${tearAt} and resume`,
        );
      });
    }
  });
});

Deno.test("a group-commit run survives a write torn at any point of a flush (manifest included) and resumes to identical bytes", async () => {
  await withDirs(1, async (reference) => {
    const clean = await emit(reference, 0, 3, "--group", "2");
    assert.equal(clean.code, 0, clean.stderr);
    const kinds = JSON.parse(clean.stdout).kinds as string[];
    const writes = kinds.flatMap((kind, i) => (kind === "write" ? [i + 1] : []));
    assert.ok(writes.length >= 9, `${writes.length} writes`);
    const expected = await snapshot(reference);
    for (const tearAt of writes) {
      await withDirs(1, async (dir) => {
        const torn = await emit(dir, 0, 3, "--group", "2", "--crash-at", String(tearAt), "--tear");
        assert.equal(torn.code, 70, `tear at ${tearAt}: ${torn.stderr}`);
        await assertNothingRecordedIsBroken(dir, `after a write torn at step ${tearAt}`);
        const resumed = await emit(dir, 0, 3, "--group", "2");
        assert.equal(resumed.code, 0, `resume after tear at step ${tearAt}: ${resumed.stderr}`);
        assert.deepEqual(await snapshot(dir), expected, `after tear at step ${tearAt} and resume`);
      });
    }
  });
});

Deno.test("abraxasTick() leaves every recorded artifact intact when killed at arbitrary instants", async () => {
  await withDirs(2, async (reference, dir) => {
    assert.equal((await emit(reference, 0, 150)).code, 0);
    // Kill the writer a few times at different moments, resuming each time.
    // Each attempt resumes from tick 0, skipping what is recorded, so these
    // delays land at different points of the run (where exactly does not
    // matter: the assertions hold wherever the kill lands).
    for (const delayMs of [40, 80, 120, 160]) {
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--quiet",
          ...scoped(dir),
          new URL(EMIT, import.meta.url).pathname,
          dir,
          "RUN-C",
          "0",
          "60",
        ],
        stdout: "null",
        stderr: "null",
      }).spawn();
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      try {
        child.kill("SIGKILL");
      } catch {
        // already finished
      }
      await child.status;
      await assertNothingRecordedIsBroken(dir, `after SIGKILL at ${delayMs} ms`);
    }
    const resumed = await emit(dir, 0, 150);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.deepEqual(await snapshot(dir), await snapshot(reference));
  });
});

Deno.test("abraxasTick() from four processes writing one run loses nothing and equals a sequential run", async () => {
  await withDirs(2, async (sequential, shared) => {
    assert.equal((await emit(sequential, 0, 40)).code, 0);
    const writers = [0, 1, 2, 3].map((offset) =>
      emit(shared, 0, 40, "--stride", "4", "--offset", String(offset))
    );
    for (const result of await Promise.all(writers)) assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(await snapshot(shared), await snapshot(sequential));
    const report = await verifyArtifacts(shared);
    assert.equal(report.ok, true);
    assert.equal(report.records, 80);
    assert.deepEqual(report.warnings, []);
  });
});

Deno.test("four group-commit processes writing one run interleaved lose nothing and equal a sequential run", async () => {
  await withDirs(2, async (sequential, shared) => {
    assert.equal((await emit(sequential, 0, 40, "--group", "40")).code, 0);
    const writers = [0, 1, 2, 3].map((offset) =>
      emit(shared, 0, 40, "--stride", "4", "--offset", String(offset), "--group", "3")
    );
    for (const result of await Promise.all(writers)) assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(await snapshot(shared), await snapshot(sequential));
    const report = await verifyArtifacts(shared);
    assert.equal(report.ok, true);
    assert.equal(report.records, 80);
    assert.deepEqual(report.warnings, []);
  });
});

Deno.test("abraxasTick() is not wedged by the lock of a killed process", async () => {
  await withDirs(1, async (dir) => {
    const holder = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        ...scoped(dir),
        new URL("./fixtures/hold_lock.ts", import.meta.url).pathname,
        dir,
      ],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const reader = holder.stdout.getReader();
    const { value } = await reader.read();
    assert.equal(new TextDecoder().decode(value).trim(), "locked");
    holder.kill("SIGKILL");
    reader.releaseLock();
    await holder.stdout.cancel();
    await holder.status;
    const after = await emit(dir, 0, 1);
    assert.equal(after.code, 0, after.stderr);
    assert.equal((await verifyArtifacts(dir)).records, 2);
  });
});

Deno.test("abraxasTick() without write permission names the flag and writes nothing", async () => {
  await withDirs(1, async (dir) => {
    const target = `${dir}/out`;
    const result = await denoRun([`--allow-read=${dir}`], EMIT, [target, "RUN-C", "0", "1"]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, new RegExp(`ArtifactPermissionError: .*--allow-write=${target}`));
    assert.deepEqual([...(await snapshot(dir)).keys()], []);
    const partial = await denoRun([`--allow-read=${dir}`, `--allow-write=${target}/viz`], EMIT, [
      target,
      "RUN-C",
      "0",
      "1",
    ]);
    assert.match(partial.stderr, new RegExp(`--allow-write=${target}`));
    assert.deepEqual([...(await snapshot(dir)).keys()], []);
  });
});

Deno.test("abraxasTick() into a symbolic link to the artifacts directory works with the link's scoped permissions", async () => {
  await withDirs(2, async (real, reference) => {
    const link = `${real}-link`;
    await Deno.symlink(real, link);
    try {
      const result = await denoRun(scoped(link), EMIT, [link, "RUN-C", "0", "2"]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal((await emit(reference, 0, 2)).code, 0);
      assert.deepEqual(await snapshot(real), await snapshot(reference));
    } finally {
      await Deno.remove(link);
    }
  });
});
