// One writer per artifacts directory, so that its checked directories and
// resolved root carry over from tick to tick.

import { resolve } from "node:path";
import { ArtifactWriter } from "./artifact_writer.ts";

const MAX_CACHED_WRITERS = 64;
const writers = new Map<string, ArtifactWriter>();

/**
 * The cached writer of `artifactsDir`, durable or not (a bad one throws,
 * naming `artifactsDir`).
 */
export function writerFor(artifactsDir: string, durable = true): ArtifactWriter {
  if (typeof artifactsDir !== "string" || artifactsDir.length === 0) {
    return new ArtifactWriter(artifactsDir); // throws, naming artifactsDir
  }
  // Keyed by the directory as given and where it is now: a relative path
  // names another directory after the process changes its working directory.
  const key = `${artifactsDir}\u0000${resolve(artifactsDir)}\u0000${durable}`;
  let writer = writers.get(key);
  if (writer === undefined) {
    writer = new ArtifactWriter(artifactsDir, { durable });
    if (writers.size >= MAX_CACHED_WRITERS) writers.delete(writers.keys().next().value as string);
    writers.set(key, writer);
  }
  return writer;
}
