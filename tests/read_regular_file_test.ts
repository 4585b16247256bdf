// The blocking read a replay or a diff makes gives what the checked async
// read gives: the same bytes of a regular file, the same refusals of what
// ERS never makes, and never blocks on a FIFO.
import assert from "node:assert/strict";
import { join } from "node:path";
import { readRegularFile, readRegularFileSync, UntrustedFileError } from "../runtime/_fs.ts";
import { tempDirs } from "./_tree.ts";

const withTempDir = tempDirs("ers_read_");

Deno.test("readRegularFileSync() reads a regular file whole, as readRegularFile() does", async () => {
  await withTempDir(async (dir) => {
    for (const size of [0, 1, 4095, 4096, 70_001]) {
      const path = join(dir, `f${size}`);
      const bytes = Uint8Array.from({ length: size }, (_, i) => (i * 31) % 251);
      await Deno.writeFile(path, bytes);
      assert.deepEqual(readRegularFileSync(path), bytes);
      assert.deepEqual(readRegularFileSync(path), new Uint8Array(await readRegularFile(path)));
    }
    assert.throws(() => readRegularFileSync(join(dir, "f70001"), 70_000), /more than 70000/);
    assert.throws(() => readRegularFileSync(join(dir, "none")), Deno.errors.NotFound);
  });
});

Deno.test("readRegularFileSync() refuses a link, a hard-linked file, a directory and a FIFO at once", async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, "file");
    await Deno.writeTextFile(file, "x");
    await Deno.symlink(file, join(dir, "link"));
    await Deno.link(file, join(dir, "hard"));
    await Deno.mkdir(join(dir, "dir"));
    await new Deno.Command("mkfifo", { args: [join(dir, "fifo")] }).output();
    const refusals: [string, RegExp][] = [
      ["link", /symbolic link/],
      ["hard", /2 hard links/],
      ["dir", /not a regular file \(a directory\)/],
      ["fifo", /not a regular file \(a FIFO\)/],
    ];
    for (const [name, problem] of refusals) {
      assert.throws(() => readRegularFileSync(join(dir, name)), UntrustedFileError);
      assert.throws(() => readRegularFileSync(join(dir, name)), problem);
      await assert.rejects(() => readRegularFile(join(dir, name)), problem);
    }
  });
});
