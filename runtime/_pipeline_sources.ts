// The source text a pipeline's digest covers when no module digest is given:
// each task function's and the context maker's. An opened pipeline in worker
// isolation holds only stand-in task functions in this realm, so its lane
// worker reports the real sources and they are kept here, by the opened
// pipeline, for the RunHeader's tasks digest (run and replay then agree
// whatever the isolation).

/** Task function sources, in task order, and the context maker's source. */
export interface PipelineSources {
  readonly tasks: readonly string[];
  readonly context: string | null;
}

const functionSource = Function.prototype.toString;
const recorded = new WeakMap<object, PipelineSources>();

/** The sources of a pipeline whose functions are in this realm. */
export function sourcesOf(
  pipeline: { readonly tasks: readonly { readonly fn: unknown }[]; readonly context?: unknown },
): PipelineSources {
  const known = recorded.get(pipeline);
  if (known !== undefined) return known;
  return {
    tasks: pipeline.tasks.map((task) => functionSource.call(task.fn as () => unknown)),
    context: typeof pipeline.context === "function" ? functionSource.call(pipeline.context) : null,
  };
}

/** Records the real sources of `pipeline` (an opened pipeline's handle). */
export function recordSources(pipeline: object, sources: PipelineSources): void {
  recorded.set(
    pipeline,
    Object.freeze({ tasks: Object.freeze([...sources.tasks]), context: sources.context }),
  );
}
